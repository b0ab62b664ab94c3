//! GitHub Actions workflow commands: one annotation per open finding, `::error` at or above the
//! failing level and `::warning` below it down to low, each titled with its severity, category
//! and object and ending with the finding's id. GitHub shows at most 10 annotations of each
//! kind per step; past that one `::notice` says how many more the summary and the SARIF hold.
//! Escaped as the runner reads them: `%`, CR and LF in the text, and `:` and `,` in a property.

use super::Report;

/// Annotations of one kind GitHub shows per step.
pub const PER_KIND: usize = 10;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 2];
    let mut more = [0usize; 2];
    for e in r.open() {
        let f = &e.finding;
        let (kind, k) = match super::ci_level(f, r.fail_on) {
            "error" => ("error", 0),
            "warning" => ("warning", 1),
            _ => continue,
        };
        if shown[k] == PER_KIND {
            more[k] += 1;
            continue;
        }
        shown[k] += 1;
        let title = format!(
            "pgparity {} {}: {}",
            f.severity,
            f.category.name(),
            f.object
        );
        let text = format!("{} [finding {}]", super::ci_text(r, f), f.id);
        out.push_str(&format!(
            "::{kind} title={}::{}\n",
            property(&title),
            data(&text)
        ));
    }
    if more[0] + more[1] > 0 {
        out.push_str(&format!(
            "::notice title=pgparity::{}\n",
            data(&format!(
                "{} more failing and {} more warning findings than GitHub shows per step: see the job summary or the SARIF",
                more[0], more[1]
            ))
        ));
    }
    out
}

/// A command's message: `%`, CR and LF escaped.
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as a message, and `:` and `,` too.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_properties_are_escaped_as_the_runner_reads_them() {
        assert_eq!(data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(property("t: a, b%"), "t%3A a%2C b%25");
    }
}
