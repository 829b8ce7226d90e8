//! Words as the analyser reads them: lower-case tokens with punctuation
//! dropped (clause breaks kept as `.`), phrase matching, negation, and numbers
//! said in digits, English words or Hindi (`dedh`, `dhai`, `sadhe teen`).

/// The token that stands for a clause break (`.`, `,`, `!`, `?`, `;`).
pub(crate) const BREAK: &str = ".";

/// Words that negate what follows them in the same clause.
const NEGATORS: &[&str] = &[
    "not", "no", "never", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont",
    "cant", "cannot", "without", "nahi", "nahin", "na", "neither", "nor", "hardly",
];

/// Words that end the reach of a negation, like a clause break.
const STOPPERS: &[&str] = &["but", "lekin", "however", "although", "though"];

/// Splits text into lower-case tokens. Apostrophes inside words go (`don't` is
/// `dont`), digits and letters are split (`4BHK` is `4 bhk`), `,` `.` `:`
/// between digits stay in the number, `-` between digits reads as `to`, `₹` as
/// `rs`, and clause punctuation becomes [`BREAK`].
pub(crate) fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    let push_break = |out: &mut Vec<String>| {
        if out.last().is_some_and(|t| t != BREAK) {
            out.push(BREAK.to_owned());
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 {
            chars.get(i - 1).copied()
        } else {
            None
        };
        let next = chars.get(i + 1).copied();
        let digit_before = prev.is_some_and(|p| p.is_ascii_digit());
        let digit_after = next.is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() {
            let last = current.chars().last();
            let boundary = last.is_some_and(|l| {
                (l.is_ascii_digit() && !c.is_ascii_digit())
                    || (!l.is_ascii_digit() && l.is_alphabetic() && c.is_ascii_digit())
            });
            if boundary {
                flush(&mut current, &mut out);
            }
            current.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '’' | '`')
            && prev.is_some_and(char::is_alphabetic)
            && next.is_some_and(char::is_alphabetic)
        {
            // don't → dont
        } else if matches!(c, '.' | ',' | ':') && digit_before && digit_after {
            current.push(c);
        } else if matches!(c, '-' | '–' | '—') && digit_before && digit_after {
            flush(&mut current, &mut out);
            out.push("to".to_owned());
        } else if c == '₹' {
            flush(&mut current, &mut out);
            out.push("rs".to_owned());
        } else if matches!(
            c,
            '.' | ',' | '!' | '?' | ';' | ':' | '\n' | '(' | ')' | '|' | '।'
        ) {
            flush(&mut current, &mut out);
            // "Rs. 3 crore": the abbreviation's dot is no clause break.
            if !(c == '.' && out.last().is_some_and(|t| t == "rs")) {
                push_break(&mut out);
            }
        } else {
            flush(&mut current, &mut out);
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Whether one token matches one pattern word: `*` at the end matches any
/// ending (`expens*`).
fn word_matches(token: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => token.starts_with(stem),
        None => token == pattern,
    }
}

/// Where a phrase starts in the tokens, each time it occurs. A last pattern
/// word written `!word` means the phrase must not be followed by `word`.
pub(crate) fn find(tokens: &[String], phrase: &str) -> Vec<(usize, usize)> {
    let mut words: Vec<&str> = phrase.split_whitespace().collect();
    let forbidden_next = match words.last() {
        Some(last) if last.starts_with('!') => {
            let word = last.trim_start_matches('!');
            words.pop();
            Some(word)
        }
        _ => None,
    };
    if words.is_empty() || words.len() > tokens.len() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for start in 0..=tokens.len() - words.len() {
        let end = start + words.len();
        let matches = tokens[start..end]
            .iter()
            .zip(&words)
            .all(|(t, w)| word_matches(t, w));
        let followed = forbidden_next.is_some_and(|f| tokens.get(end).is_some_and(|t| t == f));
        if matches && !followed {
            found.push((start, end));
        }
    }
    found
}

/// Whether any of the phrases occurs.
pub(crate) fn has_any(tokens: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| !find(tokens, p).is_empty())
}

fn is_negator(token: &str) -> bool {
    NEGATORS.contains(&token)
}

/// Whether the words `start..end` are negated: a negator up to three words
/// before them in the same clause, or Hindi `nahi` right after them.
pub(crate) fn negated(tokens: &[String], start: usize, end: usize) -> bool {
    for back in 1..=3 {
        let Some(i) = start.checked_sub(back) else {
            break;
        };
        let Some(token) = tokens.get(i) else {
            break;
        };
        if token == BREAK || STOPPERS.contains(&token.as_str()) {
            break;
        }
        if is_negator(token) {
            return true;
        }
    }
    tokens.get(end).is_some_and(|t| t == "nahi" || t == "nahin")
}

/// The first unnegated occurrence of a phrase, as its token span.
pub(crate) fn find_affirmed(tokens: &[String], phrase: &str) -> Option<(usize, usize)> {
    find(tokens, phrase)
        .into_iter()
        .find(|&(start, end)| !negated(tokens, start, end))
}

/// The first span where an anchor word and a target word sit within `window`
/// words of each other in one clause, with no negator between or before them.
pub(crate) fn find_near(
    tokens: &[String],
    anchors: &[&str],
    targets: &[&str],
    window: usize,
) -> Option<(usize, usize)> {
    let hits = |words: &[&str]| -> Vec<usize> {
        (0..tokens.len())
            .filter(|&i| words.iter().any(|w| word_matches(&tokens[i], w)))
            .collect()
    };
    let anchor_at = hits(anchors);
    let target_at = hits(targets);
    for &a in &anchor_at {
        for &t in &target_at {
            let (start, end) = if a < t { (a, t + 1) } else { (t, a + 1) };
            if end - start > window + 1 || a == t {
                continue;
            }
            let between = &tokens[start..end];
            if between.iter().any(|w| w == BREAK) {
                continue;
            }
            if between.iter().any(|w| is_negator(w)) || negated(tokens, start, end) {
                continue;
            }
            return Some((start, end));
        }
    }
    None
}

fn small_number(word: &str) -> Option<u64> {
    let n = match word {
        "zero" => 0,
        "one" | "a" | "ek" => 1,
        "two" | "do" => 2,
        "three" | "teen" => 3,
        "four" | "char" | "chaar" => 4,
        "five" | "paanch" | "panch" => 5,
        "six" | "chhe" | "chhah" => 6,
        "seven" | "saat" => 7,
        "eight" | "aath" => 8,
        "nine" | "nau" => 9,
        "ten" | "das" => 10,
        "eleven" => 11,
        "twelve" | "barah" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" | "pandrah" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" | "bees" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" | "pachaas" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    };
    Some(n)
}

fn is_tens(n: u64) -> bool {
    n >= 20 && n.is_multiple_of(10)
}

/// A number said at `tokens[i]`, in hundredths (`dedh` is 150, `4.5` is 450),
/// with the index after it. `a` counts as one only before a unit the caller
/// checks (`a crore`).
pub(crate) fn number_at(tokens: &[String], i: usize) -> Option<(u64, usize)> {
    let first = tokens.get(i)?;
    if first.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return digits_hundredths(first).map(|n| (n, i + 1));
    }
    match first.as_str() {
        "dedh" | "derh" => return Some((150, i + 1)),
        "dhai" | "dhaai" | "adhai" | "dhayi" => return Some((250, i + 1)),
        "sadhe" | "saadhe" | "sade" => {
            let (n, next) = whole_words(tokens, i + 1)?;
            return n.checked_mul(100)?.checked_add(50).map(|h| (h, next));
        }
        "sawa" | "sava" => {
            let (n, next) = whole_words(tokens, i + 1)?;
            return n.checked_mul(100)?.checked_add(25).map(|h| (h, next));
        }
        "half" if tokens.get(i + 1).is_some_and(|t| t == "a") => return Some((50, i + 2)),
        _ => {}
    }
    let (whole, mut next) = whole_words(tokens, i)?;
    let mut hundredths = whole.checked_mul(100)?;
    let word = |k: usize| tokens.get(k).map(String::as_str);
    if word(next) == Some("and") && word(next + 1) == Some("a") && word(next + 2) == Some("half") {
        hundredths = hundredths.checked_add(50)?;
        next += 3;
    } else if word(next) == Some("and") && word(next + 1) == Some("half") {
        hundredths = hundredths.checked_add(50)?;
        next += 2;
    } else if word(next) == Some("point")
        && let Some(tenths) = word(next + 1).and_then(small_number).filter(|n| *n < 10)
    {
        hundredths = hundredths.checked_add(tenths * 10)?;
        next += 2;
        if let Some(rest) = word(next).and_then(small_number).filter(|n| *n < 10) {
            hundredths = hundredths.checked_add(rest)?;
            next += 1;
        }
    }
    Some((hundredths, next))
}

/// A whole number in words (`eighty five`, `one hundred and twenty`).
fn whole_words(tokens: &[String], i: usize) -> Option<(u64, usize)> {
    let mut total: u64 = 0;
    let mut j = i;
    let mut any = false;
    let mut last_tens = false;
    while let Some(token) = tokens.get(j) {
        if let Some(n) = small_number(token) {
            if token == "a" && any {
                break;
            }
            if any && !(last_tens && n < 10) && !total.is_multiple_of(100) {
                break;
            }
            total = total.checked_add(n)?;
            last_tens = is_tens(n);
            any = true;
            j += 1;
        } else if token == "hundred" && any {
            total = total.checked_mul(100)?;
            last_tens = false;
            j += 1;
        } else if token == "and"
            && any
            && total.is_multiple_of(100)
            && total > 0
            && tokens
                .get(j + 1)
                .is_some_and(|t| t != "a" && small_number(t).is_some())
        {
            j += 1;
        } else {
            break;
        }
    }
    any.then_some((total, j))
}

/// `4`, `4.5`, `4.25` in hundredths; anything else (commas, colons) is not a
/// plain count.
fn digits_hundredths(token: &str) -> Option<u64> {
    let (whole, fraction) = token.split_once('.').unwrap_or((token, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut digits = fraction.chars().filter_map(|c| c.to_digit(10));
    let tenths = u64::from(digits.next().unwrap_or(0));
    let hundredths = u64::from(digits.next().unwrap_or(0));
    whole
        .checked_mul(100)?
        .checked_add(tenths * 10 + hundredths)
}

/// Whether a line reads as a question.
pub(crate) fn is_question(text: &str, tokens: &[String]) -> bool {
    const OPENERS: &[&str] = &[
        "what", "when", "where", "which", "how", "who", "why", "are", "is", "do", "does", "did",
        "would", "could", "can", "may", "shall", "will", "have", "has", "kya", "kab", "kahan",
        "kitna", "kaunsa", "tell",
    ];
    text.contains('?')
        || tokens
            .first()
            .is_some_and(|t| OPENERS.contains(&t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Vec<String> {
        tokens(text)
    }

    #[test]
    fn tokens_keep_numbers_and_clauses() {
        assert_eq!(
            t("No, it's ₹3.2 Cr for a 4BHK; 3,20,00,000 or 4-5 crore."),
            [
                "no",
                ".",
                "its",
                "rs",
                "3.2",
                "cr",
                "for",
                "a",
                "4",
                "bhk",
                ".",
                "3,20,00,000",
                "or",
                "4",
                "to",
                "5",
                "crore",
                "."
            ]
        );
        assert!(t("").is_empty());
        assert!(t("!!! ,,, ???").is_empty());
    }

    #[test]
    fn numbers_in_words() {
        let n = |s: &str| number_at(&t(s), 0).map(|(n, _)| n);
        assert_eq!(n("dedh crore"), Some(150));
        assert_eq!(n("dhai crore"), Some(250));
        assert_eq!(n("one and a half crore"), Some(150));
        assert_eq!(n("eighty five lakh"), Some(8500));
        assert_eq!(n("two point five crore"), Some(250));
        assert_eq!(n("one hundred and twenty lakh"), Some(12000));
        assert_eq!(n("sadhe teen crore"), Some(350));
        assert_eq!(n("4.5 crore"), Some(450));
        assert_eq!(n("crore"), None);
        assert_eq!(n("99999999999999999999 crore"), None);
    }

    #[test]
    fn negation_reaches_back_within_the_clause() {
        let tokens = t("No, it is too expensive");
        let (s, e) = find(&tokens, "too expensive")[0];
        assert!(!negated(&tokens, s, e));
        let tokens = t("it is not too expensive");
        let (s, e) = find(&tokens, "too expensive")[0];
        assert!(negated(&tokens, s, e));
        let tokens = t("price is not a problem");
        assert_eq!(find_near(&tokens, &["price"], &["problem"], 5), None);
        let tokens = t("the price is a problem");
        assert!(find_near(&tokens, &["price"], &["problem"], 5).is_some());
    }
}
