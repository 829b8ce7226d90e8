//! The report as a PDF (A4, PDF 1.7, written with `pdf-writer`): title,
//! the period's figures, the daily chart of calls and qualified leads drawn
//! as vector paths, and the first rows of the report. Text is set in
//! Helvetica, one of the fonts every PDF reader has, so nothing is
//! embedded; it covers Latin-1, so other characters print as `?` (and `₹`
//! as `Rs`).

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use super::{Table, Totals};
use crate::charts::Trends;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
/// Rows of the report's table on the PDF (the CSV has every one).
const ROWS_SHOWN: usize = 24;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text as the standard fonts can set it: Latin-1 bytes, others as `?`.
fn latin1(text: &str) -> Vec<u8> {
    text.replace('₹', "Rs ")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .map(|b| if b < 0x20 { b' ' } else { b })
        .collect()
}

/// Cuts text to about `max` characters, with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(3)).collect();
        short.push_str("...");
        short
    }
}

fn text(content: &mut Content, font: Name<'_>, size: f32, x: f32, y: f32, words: &str) {
    content.begin_text();
    content.set_font(font, size);
    content.next_line(x, y);
    content.show(Str(&latin1(words)));
    content.end_text();
}

/// Bars of calls (grey) and qualified leads (blue) for each day.
fn chart(content: &mut Content, trend: &Trends, top: f32) -> f32 {
    let height = 150.0;
    let bottom = top - height;
    let width = WIDTH - 2.0 * MARGIN;
    let days = trend.days.len().max(1) as f32;
    let most = trend
        .days
        .iter()
        .map(|d| d.calls.max(d.qualified))
        .max()
        .unwrap_or(0)
        .max(1) as f32;
    text(
        content,
        BOLD,
        11.0,
        MARGIN,
        top + 8.0,
        "Calls (grey) and qualified leads (blue) by day",
    );
    // Axis.
    content.set_stroke_gray(0.6);
    content.set_line_width(0.5);
    content.move_to(MARGIN, bottom);
    content.line_to(MARGIN + width, bottom);
    content.stroke();
    let slot = width / days;
    for (i, day) in trend.days.iter().enumerate() {
        let x = MARGIN + slot * i as f32;
        let bar = |value: i64| value as f32 / most * (height - 20.0);
        content.set_fill_gray(0.75);
        content.rect(x + slot * 0.1, bottom, slot * 0.4, bar(day.calls));
        content.fill_nonzero();
        content.set_fill_rgb(0.16, 0.38, 0.78);
        content.rect(x + slot * 0.5, bottom, slot * 0.4, bar(day.qualified));
        content.fill_nonzero();
    }
    content.set_fill_gray(0.0);
    text(
        content,
        REGULAR,
        8.0,
        MARGIN,
        bottom - 12.0,
        &trend
            .days
            .first()
            .map(|d| d.date.to_string())
            .unwrap_or_default(),
    );
    text(
        content,
        REGULAR,
        8.0,
        MARGIN + width - 44.0,
        bottom - 12.0,
        &trend
            .days
            .last()
            .map(|d| d.date.to_string())
            .unwrap_or_default(),
    );
    text(
        content,
        REGULAR,
        8.0,
        MARGIN + width - 60.0,
        top - 4.0,
        &format!("highest: {most:.0}"),
    );
    bottom - 40.0
}

/// The PDF of a report.
pub(super) fn document(
    title: &str,
    subtitle: &str,
    totals: &Totals,
    trend: &Trends,
    table: &Table,
) -> Vec<u8> {
    let mut content = Content::new();
    let mut y = HEIGHT - MARGIN;
    text(&mut content, BOLD, 18.0, MARGIN, y, &cut(title, 60));
    y -= 18.0;
    text(&mut content, REGULAR, 9.0, MARGIN, y, &cut(subtitle, 110));
    y -= 30.0;
    text(&mut content, BOLD, 11.0, MARGIN, y, "The period");
    y -= 16.0;
    for (label, value) in totals.lines() {
        text(&mut content, REGULAR, 10.0, MARGIN, y, label);
        text(&mut content, BOLD, 10.0, MARGIN + 170.0, y, &value);
        y -= 14.0;
    }
    y -= 24.0;
    y = chart(&mut content, trend, y - 10.0);

    // The first rows: as many columns as fit, each cut to its share.
    let columns = table.header.len().min(6);
    let column = (WIDTH - 2.0 * MARGIN) / columns.max(1) as f32;
    let chars = (column / 4.6) as usize;
    text(&mut content, BOLD, 11.0, MARGIN, y, "Rows");
    y -= 14.0;
    for (i, name) in table.header.iter().take(columns).enumerate() {
        text(
            &mut content,
            BOLD,
            7.5,
            MARGIN + column * i as f32,
            y,
            &cut(name, chars),
        );
    }
    y -= 11.0;
    for row in table.rows.iter().take(ROWS_SHOWN) {
        for (i, cell) in row.iter().take(columns).enumerate() {
            text(
                &mut content,
                REGULAR,
                7.5,
                MARGIN + column * i as f32,
                y,
                &cut(cell, chars),
            );
        }
        y -= 10.0;
    }
    let more = table.rows.len().saturating_sub(ROWS_SHOWN) + table.omitted;
    if table.rows.is_empty() {
        text(
            &mut content,
            REGULAR,
            9.0,
            MARGIN,
            y,
            "No rows in this period.",
        );
    } else if more > 0 || table.header.len() > columns {
        text(
            &mut content,
            REGULAR,
            8.0,
            MARGIN,
            y - 4.0,
            &format!(
                "{} rows in all, {} columns; the CSV of this report has every row and column.",
                table.rows.len() + table.omitted,
                table.header.len()
            ),
        );
    }

    let mut pdf = Pdf::new();
    let (catalog, tree, page, regular, bold, stream) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
    );
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut writer = pdf.page(page);
    writer.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    writer.parent(tree);
    writer.contents(stream);
    writer
        .resources()
        .fonts()
        .pair(REGULAR, regular)
        .pair(BOLD, bold);
    drop(writer);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.stream(stream, &content.finish());
    pdf.finish()
}
