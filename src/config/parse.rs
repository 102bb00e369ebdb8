//! Stage one: the literal structure of an AWS config or credentials file.
//!
//! This stage knows lines, sections and properties, not what they mean; the rules about
//! `[profile x]`, `[default]` and `[sso-session x]` live in `normalize.rs`. The rules follow the
//! cross-SDK profile parser specification (smithy-rs `profile-parser-tests.json`):
//! whitespace is space or tab; `#` and `;` start a comment anywhere on a section line but only
//! after whitespace on a property line; an indented line continues the previous property; a
//! property with an empty value followed by indented `key = value` lines holds sub-properties.

/// A `[...]` section as written, with its properties in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSection {
    /// The text between the brackets, trimmed.
    pub name: String,
    /// 1-based line of the header.
    pub line: usize,
    pub properties: Vec<RawProperty>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProperty {
    /// As written (not yet lower-cased).
    pub key: String,
    pub value: String,
    /// 1-based line of the `key = value` line.
    pub line: usize,
}

/// A syntax error at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn trim_ws(s: &str) -> &str {
    s.trim_matches(is_ws)
}

/// Cuts the line at the first comment character. On property lines the character must follow
/// whitespace ("comments adjacent to values are included in the value").
fn strip_comment(line: &str, needs_whitespace: bool) -> &str {
    let mut prev_ws = false;
    for (i, c) in line.char_indices() {
        if (c == '#' || c == ';') && (!needs_whitespace || prev_ws) {
            return &line[..i];
        }
        prev_ws = is_ws(c);
    }
    line
}

/// Parses the text of one file.
pub fn parse(text: &str) -> Result<Vec<RawSection>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<RawSection> = Vec::new();
    // Whether the last property of the current section may take continuation lines, and whether
    // they are sub-properties (the property's own value was empty).
    let mut continuable: Option<bool> = None;

    for (index, raw_line) in text.split('\n').enumerate() {
        let line_no = index.saturating_add(1);
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        if line.chars().all(is_ws) || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let err = |message| ParseError {
            line: line_no,
            message,
        };

        if line.starts_with(is_ws) {
            // Continuation of the previous property, or a sub-property.
            let Some(section) = sections.last_mut() else {
                return Err(err("Expected a profile definition, found continuation"));
            };
            let (Some(sub), Some(prop)) = (continuable, section.properties.last_mut()) else {
                return Err(err("Expected a property definition, found continuation"));
            };
            let content = trim_ws(line);
            if sub {
                let Some((name, _)) = content.split_once('=') else {
                    return Err(err("Expected an '=' sign defining a sub-property"));
                };
                if trim_ws(name).is_empty() {
                    return Err(err("Sub-property did not have a name"));
                }
            }
            prop.value.push('\n');
            prop.value.push_str(content);
            continue;
        }

        if line.starts_with('[') {
            let header = trim_ws(strip_comment(line, false));
            let inner = header.strip_prefix('[').unwrap_or(header);
            let Some(inner) = inner.strip_suffix(']') else {
                return Err(err("Profile definition must end with ']'"));
            };
            sections.push(RawSection {
                name: trim_ws(inner).to_string(),
                line: line_no,
                properties: Vec::new(),
            });
            continuable = None;
            continue;
        }

        let Some(section) = sections.last_mut() else {
            return Err(err("Expected a profile definition"));
        };
        let content = trim_ws(strip_comment(line, true));
        let Some((key, value)) = content.split_once('=') else {
            return Err(err("Expected an '=' sign defining a property"));
        };
        let key = trim_ws(key);
        if key.is_empty() {
            return Err(err("Property did not have a name"));
        }
        let value = trim_ws(value);
        continuable = Some(value.is_empty());
        section.properties.push(RawProperty {
            key: key.to_string(),
            value: value.to_string(),
            line: line_no,
        });
    }
    Ok(sections)
}

/// Parses the sub-properties of a property such as `sts =` in a `[services x]` section:
/// each non-empty line of `value` is `key = value`. Keys are lower-cased.
pub fn sub_properties(value: &str) -> Vec<(String, String)> {
    value
        .split('\n')
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (trim_ws(k).to_ascii_lowercase(), trim_ws(v).to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines() {
        let s = parse("# c\n[profile a]\nx = 1\n\n[b]\ny = 2 ; c\n").unwrap();
        assert_eq!(s[0].name, "profile a");
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].properties[0].line, 3);
        assert_eq!(
            s[1].properties[0],
            RawProperty {
                key: "y".into(),
                value: "2".into(),
                line: 6
            }
        );
    }

    #[test]
    fn error_lines_and_bom() {
        assert_eq!(
            parse("\u{feff}[a]\nx\n").unwrap_err(),
            ParseError {
                line: 2,
                message: "Expected an '=' sign defining a property"
            }
        );
    }

    #[test]
    fn sub_properties_are_split() {
        assert_eq!(
            sub_properties("\nendpoint_url = http://127.0.0.1:1\nRegion=x"),
            vec![
                ("endpoint_url".to_string(), "http://127.0.0.1:1".to_string()),
                ("region".to_string(), "x".to_string())
            ]
        );
    }
}
