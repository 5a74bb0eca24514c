//! Numbers to text and back, in the server's formats.
//!
//! The server renders a double two ways: `$toString`/`$convert` use the
//! shortest text that reads back as the same double (C++ `fmt::format("{}")`,
//! `1e+20`, `0.1`, `3`), while the string coercion of `$toLower`, `$substrCP`
//! and friends streams it with six significant digits (C `%g`,
//! `1.09951e+12`). Parsing follows `$convert`'s rules: base-10 text only,
//! with no surrounding whitespace.

use bson::Decimal128;

/// Splits a finite, non-zero double's shortest round-trip digits into the
/// digit string (no leading zeros) and the decimal exponent of its first
/// digit: `123.5` is `("1235", 2)`.
fn shortest_digits(f: f64) -> (String, i32) {
    // `{:e}` prints the shortest round-trip digits as `d.ddde±x`.
    let text = format!("{:e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Lays out significant `digits` (first digit at decimal exponent `exp`)
/// either positionally or as `d.ddde±xx`, dropping trailing zeros.
fn layout(negative: bool, digits: &str, exp: i32, scientific: bool) -> String {
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if scientific {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
        return out;
    }
    let len = digits.len() as i32;
    if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    } else if exp + 1 >= len {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (exp + 1 - len) as usize));
    } else {
        let (int, frac) = digits.split_at((exp + 1) as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A double as `$toString` renders it: the shortest round-trip digits,
/// positional for decimal exponents -4 to 15 and `1e+16` style otherwise;
/// `NaN`, `Infinity`, `-Infinity` and `-0` spelled out.
pub(crate) fn double_to_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (digits, exp) = shortest_digits(f);
    layout(f < 0.0, &digits, exp, !(-4..16).contains(&exp))
}

/// A double as C's `%g` prints it (six significant digits), which is how
/// the server coerces a double to a string for the string operators.
pub(crate) fn double_to_g(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rounded to six significant digits first: the exponent is the rounded one.
    let text = format!("{:.5e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exponent.parse().unwrap_or(0);
    layout(f < 0.0, &digits, exp, !(-4..6).contains(&exp))
}

/// Why a string is not a number, in the server's words.
fn not_a_number(text: &str) -> &'static str {
    if text.is_empty() {
        "No digits"
    } else {
        "Did not consume whole string."
    }
}

/// Parses base-10 integer text (an optional sign, then digits only).
pub(crate) fn parse_integer(text: &str) -> Result<i64, &'static str> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_number(digits));
    }
    text.parse::<i64>().map_err(|_| "Overflow")
}

/// Whether `text` is a base-10 decimal numeral: an optional sign, digits
/// with at most one point (and at least one digit), an optional exponent.
fn is_decimal_numeral(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mut digits = 0;
    let mut points = 0;
    for b in mantissa.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return false,
        }
    }
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    digits > 0 && points <= 1 && exponent_ok
}

/// The special values `strtod` and the decimal parser also accept.
fn special_value(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = match body.to_ascii_lowercase().as_str() {
        "nan" => f64::NAN,
        "inf" | "infinity" => f64::INFINITY,
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// Parses base-10 floating-point text; out-of-range values are refused
/// rather than becoming infinite.
pub(crate) fn parse_double(text: &str) -> Result<f64, &'static str> {
    if let Some(special) = special_value(text) {
        return Ok(special);
    }
    if !is_decimal_numeral(text) {
        return Err(not_a_number(text));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_infinite() => Err("Out of range"),
        Ok(f) => Ok(f),
        Err(_) => Err(not_a_number(text)),
    }
}

/// Parses base-10 decimal text into a decimal128.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal128, &'static str> {
    let valid = is_decimal_numeral(text) || special_value(text).is_some();
    if !valid {
        return Err(not_a_number(text));
    }
    text.parse::<Decimal128>().map_err(|_| "Out of range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_string_is_shortest_round_trip() {
        for (f, text) in [
            (2.5, "2.5"),
            (3.0, "3"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-123.456, "-123.456"),
            (1e300, "1e+300"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(double_to_string(f), text, "{f}");
        }
    }

    #[test]
    fn g_format_keeps_six_digits() {
        for (f, text) in [
            (1.5, "1.5"),
            (1099511627776.0, "1.09951e+12"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.0, "-2"),
            (0.1 + 0.2, "0.3"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(double_to_g(f), text, "{f}");
        }
    }

    #[test]
    fn parsing_is_base_ten_only() {
        assert_eq!(parse_integer("-5"), Ok(-5));
        assert!(parse_integer("2.5").is_err());
        assert!(parse_integer("0x10").is_err());
        assert!(parse_integer(" 1").is_err());
        assert!(parse_integer("").is_err());
        assert_eq!(parse_integer("99999999999999999999"), Err("Overflow"));
        assert_eq!(parse_double("5e10"), Ok(5e10));
        assert_eq!(parse_double("-5.5"), Ok(-5.5));
        assert_eq!(parse_double(".5"), Ok(0.5));
        assert!(parse_double("5e550").is_err());
        assert!(parse_double("0x6400").is_err());
        assert!(parse_double("1e").is_err());
        assert!(parse_double(".").is_err());
        assert!(parse_double("-").is_err());
        assert_eq!(
            parse_decimal("-5.5").unwrap().to_string(),
            "-5.5".parse::<Decimal128>().unwrap().to_string()
        );
        assert!(parse_decimal("abc").is_err());
        assert!(parse_decimal("").is_err());
    }
}
