//! Charts drawn on the server as SVG (DESIGN: no front-end files copied in): a donut, horizontal
//! bars (one or several series, or stacked), lines by month and stacked columns. Each is decoration beside a table holding the same
//! numbers (hidden from sight, read by screen readers and printed), so it is `aria-hidden`. Every
//! text drawn is escaped here.

use std::fmt::Write;

/// What a chart draws: labels for the categories, and each series with its label and values.
pub struct ChartData<'a> {
    pub categories: &'a [String],
    pub series: &'a [(String, &'a [i64])],
    /// How a value is written (a count, or fen as yuan).
    pub value_text: &'a dyn Fn(i64) -> String,
}

/// Colours for series or segments, each with contrast against white and against each other.
const COLOURS: [&str; 8] = [
    "#b71c1c", "#1565c0", "#f9a825", "#2e7d32", "#6a1b9a", "#00838f", "#6d4c41", "#ef6c00",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(width: u32, height: u32) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="100%" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg" font-size="11">"#
    )
}

/// Segments of one series around a ring, with a legend beside it.
pub fn donut(d: &ChartData) -> String {
    let values = d.series.first().map(|(_, v)| *v).unwrap_or(&[]);
    let total: i64 = values.iter().map(|v| (*v).max(0)).sum();
    let mut s = open(320, 140);
    let (cx, cy, r) = (70.0, 70.0, 48.0);
    let circumference = 2.0 * std::f64::consts::PI * r;
    let _ = write!(
        s,
        r##"<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="#eee" stroke-width="24"/>"##
    );
    let mut offset = 0.0;
    for (i, v) in values.iter().enumerate() {
        if total == 0 || *v <= 0 {
            continue;
        }
        let len = circumference * (*v as f64) / (total as f64);
        let _ = write!(
            s,
            r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{}" stroke-width="24" stroke-dasharray="{len:.2} {:.2}" stroke-dashoffset="{:.2}" transform="rotate(-90 {cx} {cy})"/>"#,
            COLOURS[i % COLOURS.len()],
            circumference - len,
            -offset
        );
        offset += len;
    }
    let _ = write!(
        s,
        r#"<text x="{cx}" y="{}" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
        cy + 5.0,
        esc(&(d.value_text)(total))
    );
    for (i, (label, v)) in d.categories.iter().zip(values).enumerate().take(8) {
        let y = 22 + i as u32 * 16;
        let _ = write!(
            s,
            r#"<rect x="140" y="{}" width="10" height="10" fill="{}"/><text x="156" y="{}">{} {}</text>"#,
            y - 9,
            COLOURS[i % COLOURS.len()],
            y,
            esc(label),
            esc(&(d.value_text)(*v))
        );
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar per category (several thin ones when there are several series).
pub fn bars(d: &ChartData) -> String {
    let rows = d.categories.len().max(1) as u32;
    let n = d.series.len().max(1) as u32;
    let row_height = 8 + 10 * n;
    let legend = if n > 1 { 18 } else { 0 };
    let height = rows * row_height + 4 + legend;
    let max = largest(d);
    let mut s = open(320, height);
    for (i, label) in d.categories.iter().enumerate() {
        let top = i as u32 * row_height + 4;
        let _ = write!(
            s,
            r#"<text x="104" y="{}" text-anchor="end">{}</text>"#,
            top + row_height / 2 + 3,
            esc(&truncate(label, 9))
        );
        for (j, (_, values)) in d.series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0);
            let w = (170.0 * v.max(0) as f64 / max as f64).round() as u32;
            let y = top + 4 + j as u32 * 10;
            let _ = write!(
                s,
                r#"<rect x="110" y="{y}" width="{w}" height="8" fill="{}"/><text x="{}" y="{}">{}</text>"#,
                COLOURS[j % COLOURS.len()],
                114 + w,
                y + 8,
                esc(&(d.value_text)(v))
            );
        }
    }
    if n > 1 {
        legend_row(&mut s, d, height - 6);
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar per category, the series as segments along it (the first from the left), and
/// their sum after it.
pub fn stacked_bars(d: &ChartData) -> String {
    let row_height = 18;
    let height = d.categories.len().max(1) as u32 * row_height + 4 + 18;
    let sums = sums(d);
    let max = sums.iter().copied().max().unwrap_or(0).max(1);
    let mut s = open(320, height);
    for (i, label) in d.categories.iter().enumerate() {
        let top = i as u32 * row_height + 4;
        let _ = write!(
            s,
            r#"<text x="104" y="{}" text-anchor="end">{}</text>"#,
            top + 12,
            esc(&truncate(label, 9))
        );
        let mut x = 110.0;
        for (j, (_, values)) in d.series.iter().enumerate() {
            let w = 170.0 * values.get(i).copied().unwrap_or(0).max(0) as f64 / max as f64;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{}" width="{w:.1}" height="12" fill="{}"/>"#,
                top + 2,
                COLOURS[j % COLOURS.len()]
            );
            x += w;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}">{}</text>"#,
            x + 4.0,
            top + 12,
            esc(&(d.value_text)(sums[i]))
        );
    }
    legend_row(&mut s, d, height - 6);
    s.push_str("</svg>");
    s
}

/// A line per series over the months.
pub fn lines(d: &ChartData) -> String {
    let max = largest(d);
    let mut s = open(320, 176);
    axis(&mut s, d, max);
    let step = 270.0 / (d.categories.len().max(2) - 1) as f64;
    for (j, (_, values)) in d.series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    40.0 + step * i as f64,
                    130.0 - 110.0 * (*v).max(0) as f64 / max as f64
                )
            })
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            COLOURS[j % COLOURS.len()]
        );
    }
    legend_row(&mut s, d, 170);
    s.push_str("</svg>");
    s
}

/// A column per month, the series stacked (the first at the bottom).
pub fn stacked(d: &ChartData) -> String {
    let count = d.categories.len();
    let max = sums(d).into_iter().max().unwrap_or(0).max(1);
    let mut s = open(320, 176);
    axis(&mut s, d, max);
    let step = 270.0 / count.max(1) as f64;
    for i in 0..count {
        let mut base = 130.0;
        for (j, (_, values)) in d.series.iter().enumerate() {
            let h = 110.0 * values.get(i).copied().unwrap_or(0).max(0) as f64 / max as f64;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                28.0 + step * i as f64,
                base - h,
                step * 0.7,
                COLOURS[j % COLOURS.len()]
            );
            base -= h;
        }
    }
    legend_row(&mut s, d, 170);
    s.push_str("</svg>");
    s
}

/// The largest value of any series: the scale's top (at least 1).
fn largest(d: &ChartData) -> i64 {
    d.series
        .iter()
        .flat_map(|(_, v)| v.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1)
}

/// Each category's values summed over the series (negative ones as none).
fn sums(d: &ChartData) -> Vec<i64> {
    (0..d.categories.len())
        .map(|i| {
            d.series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0).max(0))
                .sum()
        })
        .collect()
}

/// The largest value at the top, and every other category's label along the bottom.
fn axis(s: &mut String, d: &ChartData, max: i64) {
    let _ = write!(
        s,
        r##"<line x1="30" y1="130" x2="310" y2="130" stroke="#999"/><text x="2" y="24">{}</text>"##,
        esc(&(d.value_text)(max))
    );
    let step = 270.0 / (d.categories.len().max(2) - 1) as f64;
    for (i, label) in d.categories.iter().enumerate().step_by(2) {
        // Months as `03`; the year shows with January.
        let short = match label.split_once('-') {
            Some((y, m)) if m == "01" || i == 0 => format!("{y}-{m}"),
            Some((_, m)) => m.to_string(),
            None => label.clone(),
        };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="146" text-anchor="middle">{}</text>"#,
            40.0 + step * i as f64,
            esc(&short)
        );
    }
}

fn legend_row(s: &mut String, d: &ChartData, y: u32) {
    let mut x = 30;
    for (j, (label, _)) in d.series.iter().enumerate() {
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{y}">{}</text>"#,
            y - 9,
            COLOURS[j % COLOURS.len()],
            x + 14,
            esc(label)
        );
        x += 24 + 12 * label.chars().count() as u32;
    }
}

fn truncate(s: &str, chars: usize) -> String {
    if s.chars().count() <= chars {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(chars - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(v: i64) -> String {
        v.to_string()
    }

    #[test]
    fn labels_are_escaped_and_values_drawn() {
        let categories = vec!["<script>".to_string(), "b&c".to_string()];
        let values = [3, 7];
        let series = vec![("人数".to_string(), &values[..])];
        let d = ChartData {
            categories: &categories,
            series: &series,
            value_text: &count,
        };
        for svg in [donut(&d), bars(&d), lines(&d), stacked(&d), stacked_bars(&d)] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("<script>"), "{svg}");
            assert!(svg.contains("aria-hidden=\"true\""));
        }
        assert!(donut(&d).contains(">10<"), "the total in the middle");
        assert!(bars(&d).contains("&lt;script&gt;"));
        // Two series stacked: each bar's segments end at its sum, written after it.
        let more = [1, 3];
        let series = vec![("人数".to_string(), &values[..]), ("其他".to_string(), &more[..])];
        let svg = stacked_bars(&ChartData { series: &series, ..d });
        assert!(svg.contains(">4<") && svg.contains(">10<"), "{svg}");
    }

    #[test]
    fn empty_and_zero_data_draw_without_dividing_by_zero() {
        let categories: Vec<String> = Vec::new();
        let series: Vec<(String, &[i64])> = Vec::new();
        let d = ChartData {
            categories: &categories,
            series: &series,
            value_text: &count,
        };
        for svg in [donut(&d), bars(&d), lines(&d), stacked(&d), stacked_bars(&d)] {
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }
}
