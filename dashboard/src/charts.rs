//! Charts as inline SVG (plotters): horizontal bars for categories, lines
//! for trends, a heat map for town × topic. Text is drawn in the page's
//! font, so Chinese labels need no embedded font; nothing is fetched.

use plotters::prelude::*;
use std::collections::HashMap;
use xuncha_queries::table::TextTable;

const FONT: &str = "sans-serif";
// plotters writes a text's size divided by 1.24 (its points to pixels), so
// these give 12.1, 12.9 and 13.7 px on the page: nothing under 12 px.
const SMALL: f64 = 15.0;
const LABEL: f64 = 16.0;
const LARGE: f64 = 17.0;
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const RED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const PALETTE: [RGBColor; 4] = [BLUE, RED, RGBColor(0x27, 0xae, 0x60), RGBColor(0xe6, 0x7e, 0x22)];

/// A bar's or a cell's link: where the rows it counts are listed.
pub type Links<'a> = &'a [Option<String>];

/// Whether every value is a whole number (counts): the axis then shows
/// whole numbers only.
fn whole(values: &[f64]) -> bool {
    values.iter().all(|v| v.fract() == 0.0)
}

/// An axis tick: whole numbers for counts (no tick between them), two
/// places at most otherwise.
fn tick(v: f64, counts: bool) -> String {
    if counts {
        if v.fract() == 0.0 { format!("{v:.0}") } else { String::new() }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A clickable rectangle: corners, link, and the words a pointer shows.
type Area = ((i32, i32), (i32, i32), String, String);

/// Transparent links laid over the SVG: each `(rect, href)` becomes an
/// `<a>` the reader can click (plotters draws no links of its own).
fn with_links(mut svg: String, areas: &[Area]) -> String {
    if areas.is_empty() {
        return svg;
    }
    let Some(end) = svg.rfind("</svg>") else { return svg };
    let mut layer = String::new();
    let escape = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    for ((x0, y0), (x1, y1), href, title) in areas {
        let (href, title) = (escape(href), escape(title));
        layer.push_str(&format!(
            "<a href=\"{href}\"><title>{title}</title><rect class=\"hit\" x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#000\" fill-opacity=\"0\"/></a>\n",
            (x1 - x0).max(1),
            (y1 - y0).max(1)
        ));
    }
    svg.insert_str(end, &layer);
    svg
}

/// Horizontal bars, one per label, the first row on top (queries order
/// them largest first); each bar links to its rows where `links` says.
pub fn bars(labels: &[String], values: &[f64], unit: &str, links: Links<'_>) -> String {
    let n = labels.len().max(1);
    let height = 48 + 30 * n as u32;
    let width = 760u32;
    let counts = whole(values);
    let mut svg = String::new();
    let mut areas = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let top = values.iter().copied().fold(0.0, f64::max);
        let max = if counts { (top * 1.15).ceil().max(1.0) } else { (top * 1.1).max(1.0) };
        let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4).clamp(4, 16) as u32 * 15 + 12;
        let chart = ChartBuilder::on(&root).margin(10).margin_right(24).x_label_area_size(30).y_label_area_size(label_width).build_cartesian_2d(0.0..max, (0..n).into_segmented());
        let Ok(mut chart) = chart else { return String::new() };
        // Row i is drawn in segment n-1-i so the first row is on top.
        let row_of = |segment: usize| n - 1 - segment;
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(n)
            .x_labels(if counts { (max as usize).min(8) + 1 } else { 8 })
            .y_label_style((FONT, LABEL))
            .x_label_style((FONT, SMALL))
            .x_desc(unit)
            .axis_desc_style((FONT, SMALL))
            .x_label_formatter(&|v| tick(*v, counts))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i < n => labels.get(row_of(*i)).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw();
        let _ = chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let segment = row_of(i);
            let mut bar = Rectangle::new([(0.0, SegmentValue::Exact(segment)), (*v, SegmentValue::Exact(segment + 1))], BLUE.filled());
            bar.set_margin(4, 4, 0, 0);
            bar
        }));
        for (i, link) in links.iter().enumerate().take(labels.len()) {
            if let Some(href) = link {
                let segment = row_of(i);
                let (_, y0) = chart.backend_coord(&(0.0, SegmentValue::Exact(segment + 1)));
                let (x1, y1) = chart.backend_coord(&(max, SegmentValue::Exact(segment)));
                areas.push(((0, y0), (x1, y1), href.clone(), labels[i].clone()));
            }
        }
        let _ = root.present();
    }
    with_links(svg, &areas)
}

/// A one-line reading of a bar chart: the first bar's share of the whole
/// (counts and money), or the first and last (rates).
pub fn reading_bars(labels: &[String], values: &[f64], unit: &str) -> Option<String> {
    let (first, value) = (labels.first()?, *values.first()?);
    if unit.contains('%') {
        let (last, low) = (labels.last()?, *values.last()?);
        return Some(if labels.len() > 1 { format!("{first}为{}%,{last}为{}%。", tick(value, false), tick(low, false)) } else { format!("{first}为{}%。", tick(value, false)) });
    }
    let total: f64 = values.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let share = (100.0 * value / total).round();
    Some(if labels.len() > 1 {
        format!("{first}最多({}{unit}),占全部的{share:.0}%;共 {} 项。", tick(value, whole(values)), labels.len())
    } else {
        format!("仅{first}一项({}{unit})。", tick(value, whole(values)))
    })
}

/// Lines over ordered x labels (months, rounds), one per series.
pub fn lines(x_labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let n = x_labels.len().max(1);
    let counts = series.iter().all(|(_, v)| whole(v));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 280)).into_drawing_area();
        let top = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
        let max = if counts { (top * 1.15).ceil().max(1.0) } else { (top * 1.15).max(1.0) };
        // Room on the right so the last label is not cut.
        let chart = ChartBuilder::on(&root).margin(12).margin_right(48).x_label_area_size(34).y_label_area_size(56).build_cartesian_2d(0..n - 1 + usize::from(n == 1), 0.0..max);
        let Ok(mut chart) = chart else { return String::new() };
        let step = n.div_ceil(12).max(1);
        let _ = chart
            .configure_mesh()
            .x_labels(n.min(12))
            .y_labels(if counts { (max as usize).min(6) + 1 } else { 6 })
            .x_label_style((FONT, SMALL))
            .y_label_style((FONT, SMALL))
            .x_label_formatter(&|i| if i % step == 0 { x_labels.get(*i).cloned().unwrap_or_default() } else { String::new() })
            .y_label_formatter(&|v| tick(*v, counts))
            .draw();
        for (k, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            if let Ok(drawn) = chart.draw_series(LineSeries::new(values.iter().enumerate().map(|(i, v)| (i, *v)), color.stroke_width(2))) {
                drawn.label(name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            }
            let _ = chart.draw_series(values.iter().enumerate().map(|(i, v)| Circle::new((i, *v), 3, color.filled())));
        }
        if series.len() > 1 {
            let _ = chart.configure_series_labels().label_font((FONT, SMALL)).background_style(WHITE.mix(0.8)).border_style(BLACK.mix(0.3)).draw();
        }
        let _ = root.present();
    }
    svg
}

/// A one-line reading of a trend: the last point against the one before.
pub fn reading_lines(x_labels: &[String], series: &[(String, Vec<f64>)]) -> Option<String> {
    let (name, values) = series.first()?;
    let (last, value) = (x_labels.last()?, *values.last()?);
    let counts = whole(values);
    Some(match values.len().checked_sub(2).and_then(|i| values.get(i)) {
        Some(before) => {
            let change = value - before;
            let word = if change > 0.0 {
                format!("增加{}", tick(change, counts))
            } else if change < 0.0 {
                format!("减少{}", tick(-change, counts))
            } else {
                "持平".into()
            };
            format!("{last}{name}{},较上一期{word}。", tick(value, counts))
        }
        None => format!("{last}{name}{}。", tick(value, counts)),
    })
}

/// Long-form rows (row label, column label, value) laid out as a grid: the
/// shape a heat map, on a page, in a report or as a Word table, is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Row labels in the table's order.
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    values: HashMap<(String, String), f64>,
}

impl Grid {
    /// The grid of `table`'s `row` × `column` → `value`; `columns` fixes the
    /// columns and their order (default: every column label, sorted).
    pub fn from_table(table: &TextTable, row: &str, column: &str, value: &str, columns: Option<Vec<String>>) -> Grid {
        let mut rows: Vec<String> = table.column(row).into_iter().map(String::from).collect();
        rows.dedup();
        let columns = columns.unwrap_or_else(|| {
            let mut all: Vec<String> = table.column(column).into_iter().map(String::from).collect();
            all.sort();
            all.dedup();
            all
        });
        let values = table.column(row).into_iter().zip(table.column(column)).zip(table.column(value)).map(|((r, c), v)| ((r.to_string(), c.to_string()), v.parse().unwrap_or(0.0))).collect();
        Grid { rows, columns, values }
    }

    /// The value at row `i`, column `j` (0 where the table has none).
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values.get(&(self.rows[i].clone(), self.columns[j].clone())).copied().unwrap_or(0.0)
    }

    /// The largest value shown (at least 1).
    pub fn max(&self) -> f64 {
        (0..self.rows.len()).flat_map(|i| (0..self.columns.len()).map(move |j| (i, j))).map(|(i, j)| self.value(i, j)).fold(1.0, f64::max)
    }

    /// The grid as a heat map; `link` gives a cell's link from its row and column labels.
    pub fn heat_map(&self, link: &dyn Fn(&str, &str) -> Option<String>) -> String {
        heat_map(&self.rows, &self.columns, |i, j| self.value(i, j), &|i, j| link(&self.rows[i], &self.columns[j]))
    }
}

/// A heat map: rows × columns, darker is more.
fn heat_map(rows: &[String], columns: &[String], value: impl Fn(usize, usize) -> f64, link: &dyn Fn(usize, usize) -> Option<String>) -> String {
    let (r, c) = (rows.len().max(1), columns.len().max(1));
    let cell_w = 48u32;
    let left = 124u32;
    let top = 70u32;
    let width = left + cell_w * c as u32 + 10;
    let height = top + 24 * r as u32 + 10;
    let max = (0..rows.len()).flat_map(|i| (0..columns.len()).map(move |j| (i, j))).map(|(i, j)| value(i, j)).fold(0.0, f64::max).max(1.0);
    let mut svg = String::new();
    let mut areas = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        for (j, name) in columns.iter().enumerate() {
            let x = (left + cell_w * j as u32 + 4) as i32;
            let _ = root.draw(&Text::new(name.clone(), (x, top as i32 - 8), (FONT, SMALL).into_font().transform(FontTransform::Rotate270)));
        }
        for (i, name) in rows.iter().enumerate() {
            let y = (top + 24 * i as u32) as i32;
            let _ = root.draw(&Text::new(name.clone(), (4, y + 5), (FONT, SMALL)));
            for (j, column) in columns.iter().enumerate() {
                let v = value(i, j);
                let x = (left + cell_w * j as u32) as i32;
                let shade = 1.0 - 0.85 * (v / max);
                let color = RGBColor((255.0 * shade) as u8, (255.0 * (0.4 + 0.6 * shade)) as u8, 255);
                let _ = root.draw(&Rectangle::new([(x, y), (x + cell_w as i32 - 2, y + 22)], color.filled()));
                if v > 0.0 {
                    let ink = if v / max > 0.5 { WHITE } else { BLACK };
                    let _ = root.draw(&Text::new(format!("{v}"), (x + 14, y + 5), (FONT, SMALL).into_font().color(&ink)));
                    if let Some(href) = link(i, j) {
                        areas.push(((x, y), (x + cell_w as i32 - 2, y + 22), href, format!("{name} · {column}: {v}")));
                    }
                }
            }
        }
        let _ = root.present();
    }
    with_links(svg, &areas)
}

/// Risk tiers' colours (高风险, 中风险, 低风险, by the first character), the
/// same on every chart and map as the cards' red, yellow and green in `app.css`.
pub fn tier_colour(tier: &str) -> RGBColor {
    match tier.chars().next() {
        Some('高') => RGBColor(0xc0, 0x39, 0x2b),
        Some('中') => RGBColor(0xe6, 0x7e, 0x22),
        Some('低') => RGBColor(0x27, 0xae, 0x60),
        _ => RGBColor(0xbd, 0xc3, 0xc7),
    }
}

/// One step of the case funnel: its name, how many cases reached it, and
/// where they are listed.
pub struct Step {
    pub name: String,
    pub count: f64,
    pub link: Option<String>,
}

/// The case funnel drawn as a funnel: one band per step, its width the
/// step's share of the first (at least a sliver, so a small step stays
/// visible and clickable), with the count and the conversion from the step
/// before.
pub fn funnel(steps: &[Step]) -> String {
    let (width, row) = (760i32, 40i32);
    let height = 16 + row * steps.len().max(1) as i32;
    let first = steps.first().map_or(0.0, |s| s.count).max(1.0);
    let (centre, widest, label_x) = (250i32, 440f64, 490i32);
    let mut svg = String::new();
    let mut areas = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let half = |count: f64| ((widest * (count / first)).max(24.0) / 2.0) as i32;
        for (i, step) in steps.iter().enumerate() {
            let y = 8 + row * i as i32;
            let top = half(step.count);
            let bottom = steps.get(i + 1).map_or((top as f64 * 0.8) as i32, |next| half(next.count).min(top));
            let shade = BLUE.mix(1.0 - 0.5 * (i as f64 / steps.len().max(1) as f64));
            let band = vec![(centre - top, y), (centre + top, y), (centre + bottom, y + row - 4), (centre - bottom, y + row - 4)];
            let _ = root.draw(&Polygon::new(band, shade.filled()));
            let count = tick(step.count, true);
            let _ = root.draw(&Text::new(format!("{} {count}", step.name), (label_x, y + 10), (FONT, LARGE)));
            let rate = match i.checked_sub(1).and_then(|k| steps.get(k)) {
                Some(before) if before.count > 0.0 => format!("上一步的 {:.0}%", 100.0 * step.count / before.count),
                Some(_) => "—".into(),
                None => "全部线索".into(),
            };
            let _ = root.draw(&Text::new(rate, (label_x + 150, y + 10), (FONT, SMALL).into_font().color(&RGBColor(0x5a, 0x65, 0x72))));
            if let Some(href) = &step.link {
                areas.push(((0, y), (width, y + row - 4), href.clone(), step.name.clone()));
            }
        }
        let _ = root.present();
    }
    with_links(svg, &areas)
}

/// A place on the tile map: a village (or a town without villages) with its
/// risk tier, grouped under its town.
pub struct Place {
    pub town: String,
    pub name: String,
    pub tier: String,
    pub link: Option<String>,
}

/// A schematic tile map for an office that has delivered no boundaries:
/// one block per town (in the order given), one square per village coloured
/// by its risk tier, each square a link to the village.
pub fn tile_map(places: &[Place], town_links: &dyn Fn(&str) -> Option<String>) -> String {
    let mut towns: Vec<(&str, Vec<&Place>)> = Vec::new();
    for p in places {
        match towns.iter_mut().find(|(t, _)| *t == p.town) {
            Some((_, v)) => v.push(p),
            None => towns.push((&p.town, vec![p])),
        }
    }
    let (square, gap, per_row) = (16i32, 3i32, 8i32);
    let block_w = per_row * (square + gap) + 12;
    // Three towns a row: the map stays near its drawn size in a half-width panel.
    let columns = 3i32;
    let block_h = |n: usize| 26 + n.div_ceil(per_row as usize) as i32 * (square + gap) + 10;
    let mut row_heights = Vec::new();
    for chunk in towns.chunks(columns as usize) {
        row_heights.push(chunk.iter().map(|(_, v)| block_h(v.len())).max().unwrap_or(40));
    }
    let width = columns * block_w + 8;
    let height = row_heights.iter().sum::<i32>().max(40) + 30;
    let mut svg = String::new();
    let mut areas = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let mut y0 = 4;
        for (r, chunk) in towns.chunks(columns as usize).enumerate() {
            for (c, (town, villages)) in chunk.iter().enumerate() {
                let x0 = 4 + c as i32 * block_w;
                let _ = root.draw(&Rectangle::new([(x0, y0), (x0 + block_w - 6, y0 + block_h(villages.len()) - 6)], RGBColor(0xd9, 0xde, 0xe5).stroke_width(1)));
                let _ = root.draw(&Text::new(town.to_string(), (x0 + 6, y0 + 6), (FONT, SMALL)));
                if let Some(href) = town_links(town) {
                    areas.push(((x0, y0), (x0 + block_w - 6, y0 + 22), href, town.to_string()));
                }
                for (k, v) in villages.iter().enumerate() {
                    let (col, line) = (k as i32 % per_row, k as i32 / per_row);
                    let (x, y) = (x0 + 6 + col * (square + gap), y0 + 26 + line * (square + gap));
                    let _ = root.draw(&Rectangle::new([(x, y), (x + square, y + square)], tier_colour(&v.tier).filled()));
                    if let Some(href) = &v.link {
                        areas.push(((x, y), (x + square, y + square), href.clone(), format!("{} · {}", v.name, v.tier)));
                    }
                }
            }
            y0 += row_heights[r];
        }
        for (k, tier) in ["高风险", "中风险", "低风险", "无评分"].iter().enumerate() {
            let x = 8 + 110 * k as i32;
            let _ = root.draw(&Rectangle::new([(x, y0 + 6), (x + 14, y0 + 20)], tier_colour(tier).filled()));
            let _ = root.draw(&Text::new(tier.to_string(), (x + 20, y0 + 6), (FONT, SMALL)));
        }
        let _ = root.present();
    }
    with_links(svg, &areas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let svg = bars(&["死亡人员仍领取补贴".into(), "一卡多人".into()], &[12.0, 3.0], "条", &[Some("/p/findings?rule=a&town=1".into()), None]);
        assert!(svg.starts_with("<svg") && svg.contains("死亡人员仍领取补贴") && svg.contains("<rect"));
        assert_eq!(svg.matches("<a href=").count(), 1, "one bar has a link");
        assert!(svg.contains("href=\"/p/findings?rule=a&amp;town=1\""), "links are escaped");
        // The first row on top: its label is drawn above the second's.
        let y_of = |label: &str| svg.split("<text").find(|t| t.contains(label)).and_then(|t| t.split("y=\"").nth(1)).and_then(|t| t.split('"').next()).and_then(|y| y.parse::<f64>().ok()).unwrap();
        assert!(y_of("死亡人员仍领取补贴") < y_of("一卡多人"));
        // Counts get whole ticks only.
        assert!(!svg.contains(">\n2.5\n<") && !svg.contains(">\n0.5\n<"), "{svg}");
        assert_eq!(reading_bars(&["严仙镇".into(), "网岭镇".into()], &[38.0, 62.0], "条").unwrap(), "严仙镇最多(38条),占全部的38%;共 2 项。");
        let svg = lines(&["2026-01".into(), "2026-02".into(), "2026-03".into()], &[("信访".into(), vec![1.0, 4.0, 2.0])]);
        assert!(svg.contains("2026-02") && svg.contains("<polyline"));
        let svg = heat_map(&["酒埠江镇".into()], &["低保".into(), "公益岗".into()], |_, j| j as f64 * 3.0, &|_, _| Some("/p/common".into()));
        assert_eq!(svg.matches("<a href=").count(), 1, "only a cell with rows links");
        assert!(svg.contains("酒埠江镇") && svg.contains("公益岗") && svg.contains(">\n3\n<"), "{svg}");
        assert!(bars(&[], &[], "条", &[]).contains("<svg"), "an empty chart still draws");
        let steps = [("疑点", 182.0), ("交办", 6.0), ("已核查", 3.0)].map(|(n, c)| Step { name: n.into(), count: c, link: Some(format!("/cases?stage={n}")) });
        let svg = funnel(&steps);
        assert!(svg.contains("<polygon") && svg.contains("交办 6") && svg.contains("上一步的 50%") && svg.matches("<a href=").count() == 3, "{svg}");
        let place = |town: &str, name: &str, tier: &str| Place { town: town.into(), name: name.into(), tier: tier.into(), link: Some(format!("/p/village?village={name}")) };
        let svg = tile_map(&[place("严仙镇", "1", "高"), place("严仙镇", "2", "低"), place("网岭镇", "3", "中")], &|_| None);
        assert!(svg.contains("严仙镇") && svg.contains("网岭镇") && svg.matches("<a href=").count() == 3 && svg.contains("#C0392B"), "{svg}");
    }
}
