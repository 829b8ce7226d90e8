//! Masking of personal data for logs.

/// `asha.k@example.com` → `a***@example.com`.
pub fn email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `+919820012345` → `+91******345`: the country code and the last three digits.
pub fn phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return "***".to_owned();
    }
    let country_len = if number.starts_with('+') { 2 } else { 0 };
    let head: String = digits[..country_len].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    let hidden = "*".repeat(digits.len() - country_len - 3);
    let plus = if number.starts_with('+') { "+" } else { "" };
    format!("{plus}{head}{hidden}{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::email("asha.k@example.com"), "a***@example.com");
        assert_eq!(super::phone("+919820012345"), "+91*******345");
        assert_eq!(super::phone("12"), "***");
    }
}
