//! Exact decimal numbers for the scorecard: no floating point anywhere.
//!
//! Inputs are held as integers of 10^-20 (an [`Amount`]); scorecard parameters
//! (rates, band edges) as integers of 10^-6. Band comparisons are
//! cross-multiplied in 256-bit integers, so no quotient is ever rounded before
//! it is compared with an edge. `rust_decimal`'s 96-bit mantissa is too narrow
//! for these products (10^15 × 10^20 × rate × edge), hence `ethnum::I256`.

use std::fmt;

use ethnum::I256;

/// Decimal places an input may carry and still be scored exactly.
pub const INPUT_SCALE: u32 = 20;
/// Decimal places of a scorecard parameter (rates, ratio edges).
pub const PARAM_SCALE: u32 = 6;
/// The largest absolute input value scored exactly: 10^15.
pub const MAX_INPUT_UNITS: i128 = 10i128.pow(15 + INPUT_SCALE);

/// A non-negative input (income, assets, amount), exact to 10^-20.
///
/// Also kept in millionths when it has at most 6 decimal places (the usual
/// case): scoring then runs on 128-bit integers, and falls back to 256 bits
/// only for finer inputs or products that would not fit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Amount {
    units: i128,
    micros: Option<u128>,
}

const UNITS_PER_MICRO: i128 = 10i128.pow(INPUT_SCALE - 6);

/// Why a number cannot be an [`Amount`]; the caller knows which argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AmountProblem {
    NotANumber,
    Infinite,
    Negative,
    OutOfRange,
    TooManyDecimals,
}

impl Amount {
    pub const ZERO: Amount = Amount { units: 0, micros: Some(0) };

    /// Units of 10^-20.
    pub fn units(self) -> i128 {
        self.units
    }

    /// Units of 10^-6, when the amount has no finer digits.
    pub fn micros(self) -> Option<u128> {
        self.micros
    }

    pub fn is_zero(self) -> bool {
        self.units == 0
    }

    /// From units of 10^-20, checking sign and range.
    pub fn from_units(units: i128) -> Result<Amount, AmountProblem> {
        if units < 0 {
            Err(AmountProblem::Negative)
        } else if units > MAX_INPUT_UNITS {
            Err(AmountProblem::OutOfRange)
        } else {
            let micros = (units % UNITS_PER_MICRO == 0).then_some((units / UNITS_PER_MICRO) as u128);
            Ok(Amount { units, micros })
        }
    }

    /// From PostgreSQL's numeric layout: base-10000 digits, the first one
    /// worth 10000^weight. Digits are read most significant first, so an
    /// out-of-range value is recognised before anything can overflow.
    #[inline(always)] // its Result read back through memory stalled callers
    pub fn from_base10000<D: Base10000Digit>(
        negative: bool,
        weight: i32,
        digits: &[D],
    ) -> Result<Amount, AmountProblem> {
        let digits = trim_zeros(digits);
        if digits.is_empty() {
            return Ok(Amount::ZERO);
        }
        if negative {
            return Err(AmountProblem::Negative);
        }
        // 10^15 < 10000^4: any nonzero digit at weight >= 4 is out of range.
        if weight >= 4 {
            return Err(AmountProblem::OutOfRange);
        }
        // An Amount's unit is 10^-20 = 10000^-5.
        let lowest = weight - (digits.len() as i32 - 1);
        if lowest < -5 {
            return Err(AmountProblem::TooManyDecimals);
        }
        // Accumulate all digits but the last, then add the last: when it
        // sits at 10^-8 the millionths are head × 100 + last / 100.
        let (last, head_digits) = digits.split_last().expect("not empty");
        let last = last.value();
        // Up to 4 digits fit 64 bits, where multiplying is cheaper.
        let (short, long) = head_digits.split_at(head_digits.len().min(4));
        let short = short.iter().fold(0u64, |acc, d| acc * 10_000 + u64::from(d.value()));
        let mut head = i128::from(short);
        for d in long {
            head = head * 10_000 + i128::from(d.value());
        }
        let raw = head * 10_000 + i128::from(last);
        let units = raw * 10_000i128.pow((lowest + 5) as u32);
        if units > MAX_INPUT_UNITS {
            return Err(AmountProblem::OutOfRange);
        }
        let micros = match lowest {
            -2 if last % 100 == 0 => Some((head * 100 + i128::from(last / 100)) as u128),
            -2 => None,
            l if l >= -1 => Some((raw * 10_000i128.pow((l + 1) as u32) * 100) as u128),
            _ => None,
        };
        Ok(Amount { units, micros })
    }

    /// Units of 10^-20 at this scale as a 256-bit integer.
    pub(crate) fn wide(self) -> I256 {
        I256::from(self.units)
    }
}

/// A base-10000 digit: a `u16`, or the two native-endian bytes PostgreSQL
/// stores it as (which may sit at an odd address, where no `&[u16]` can
/// point).
pub trait Base10000Digit: Copy {
    fn value(self) -> u16;
}

impl Base10000Digit for u16 {
    fn value(self) -> u16 {
        self
    }
}

impl Base10000Digit for [u8; 2] {
    fn value(self) -> u16 {
        u16::from_ne_bytes(self)
    }
}

fn trim_zeros<D: Base10000Digit>(digits: &[D]) -> &[D] {
    let start = digits.iter().position(|d| d.value() != 0).unwrap_or(digits.len());
    let end = digits.iter().rposition(|d| d.value() != 0).map_or(start, |i| i + 1);
    &digits[start..end]
}

impl std::str::FromStr for Amount {
    type Err = AmountProblem;

    /// Parses plain decimal text (`-12.5`, `1000`, `NaN`, `Infinity`) exactly.
    fn from_str(s: &str) -> Result<Amount, AmountProblem> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "nan" => return Err(AmountProblem::NotANumber),
            "infinity" | "+infinity" | "-infinity" | "inf" | "+inf" | "-inf" => {
                return Err(AmountProblem::Infinite)
            }
            _ => {}
        }
        let (negative, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        // Scientific notation (what float columns print: 5e+06) is turned
        // into plain digits by moving the point, exactly.
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => {
                let exp = body[i + 1..].parse::<i32>().map_err(|_| AmountProblem::NotANumber)?;
                (&body[..i], exp)
            }
            None => (body, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AmountProblem::NotANumber);
        }
        let shifted;
        let (int, frac) = if exponent == 0 {
            (int, frac)
        } else {
            // Far beyond any amount in range either way: say which.
            if exponent > 64 {
                return Err(if int.bytes().chain(frac.bytes()).all(|b| b == b'0') {
                    return Ok(Amount::ZERO);
                } else if negative {
                    AmountProblem::Negative
                } else {
                    AmountProblem::OutOfRange
                });
            }
            let exponent = exponent.max(-64);
            let digits = format!("{int}{frac}");
            let point = int.len() as i32 + exponent;
            shifted = if point <= 0 {
                (String::new(), format!("{}{digits}", "0".repeat((-point) as usize)))
            } else if point as usize >= digits.len() {
                (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
            } else {
                (digits[..point as usize].to_string(), digits[point as usize..].to_string())
            };
            (shifted.0.as_str(), shifted.1.as_str())
        };
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        if int.is_empty() && frac.is_empty() {
            return Ok(Amount::ZERO);
        }
        if negative {
            return Err(AmountProblem::Negative);
        }
        if int.len() > 16 {
            return Err(AmountProblem::OutOfRange);
        }
        if frac.len() > INPUT_SCALE as usize {
            return Err(AmountProblem::TooManyDecimals);
        }
        let mut units: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            units = units * 10 + i128::from(b - b'0');
        }
        units *= 10i128.pow(INPUT_SCALE - frac.len() as u32);
        Amount::from_units(units)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = Fixed::new(self.units, INPUT_SCALE).to_string();
        // Drop trailing zeros of the fraction: 1000.5, not 1000.50000...
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
        f.write_str(s)
    }
}

/// A decimal result with a fixed number of places, e.g. money rounded to
/// cents: `units / 10^scale`. Printed with all its places (`0.40`, `12.00`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Fixed {
    pub units: i128,
    pub scale: u32,
}

impl Fixed {
    pub const fn new(units: i128, scale: u32) -> Fixed {
        Fixed { units, scale }
    }

    /// Hundredths, as `round(x, 2)` gives them.
    pub const fn cents(units: i128) -> Fixed {
        Fixed { units, scale: 2 }
    }
}

impl From<rust_decimal::Decimal> for Fixed {
    fn from(d: rust_decimal::Decimal) -> Fixed {
        Fixed::new(d.mantissa(), d.scale())
    }
}

impl fmt::Display for Fixed {
    /// Without allocating: scores format one of these per row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs}");
        }
        let one = 10u128.pow(self.scale);
        let width = self.scale as usize;
        write!(f, "{sign}{}.{:0width$}", abs / one, abs % one)
    }
}

/// `numerator / denominator` rounded half away from zero, both non-negative
/// and the denominator positive (as every quotient the scorecard rounds is).
pub(crate) fn div_round_half_up(numerator: I256, denominator: I256) -> i128 {
    let (q, r) = (numerator / denominator, numerator % denominator);
    let q = if r * 2 >= denominator { q + 1 } else { q };
    q.as_i128()
}

/// As [`div_round_half_up`] in 128 bits, with a 64-bit division when both
/// fit (the common case, and several times cheaper).
pub(crate) fn div_round_half_up_u128(numerator: u128, denominator: u128) -> u128 {
    let (q, r) = if (numerator | denominator) >> 64 == 0 {
        let (n, d) = (numerator as u64, denominator as u64);
        (u128::from(n / d), u128::from(n % d))
    } else {
        (numerator / denominator, numerator % denominator)
    };
    if r * 2 >= denominator {
        q + 1
    } else {
        q
    }
}

/// Does `(numerator / divisor) <= bound` hold exactly? All non-negative,
/// divisor positive. Decided from quotient and remainder, so the bound is
/// never multiplied by the divisor (which keeps every product in range).
pub(crate) fn quotient_at_most(quotient: I256, remainder: I256, bound: I256) -> bool {
    quotient < bound || (quotient == bound && remainder == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!("1".parse::<Amount>().unwrap().units(), 10i128.pow(20));
        assert_eq!("0.000001".parse::<Amount>().unwrap().units(), 10i128.pow(14));
        assert_eq!("-0".parse::<Amount>().unwrap(), Amount::ZERO);
        assert_eq!("-0.000".parse::<Amount>().unwrap(), Amount::ZERO);
        assert_eq!("1000000000000000".parse::<Amount>().unwrap().units(), MAX_INPUT_UNITS);
        assert_eq!("1000000000000000.000001".parse::<Amount>(), Err(AmountProblem::OutOfRange));
        assert_eq!("-1".parse::<Amount>(), Err(AmountProblem::Negative));
        assert_eq!("NaN".parse::<Amount>(), Err(AmountProblem::NotANumber));
        assert_eq!("-Infinity".parse::<Amount>(), Err(AmountProblem::Infinite));
        assert_eq!("abc".parse::<Amount>(), Err(AmountProblem::NotANumber));
        assert_eq!("0.000000000000000000001".parse::<Amount>(), Err(AmountProblem::TooManyDecimals));
        assert_eq!("0.100000000000000000000000".parse::<Amount>().unwrap().units(), 10i128.pow(19));
        // scientific notation, as float columns print
        assert_eq!("5e+06".parse::<Amount>().unwrap(), "5000000".parse().unwrap());
        assert_eq!("1.5E3".parse::<Amount>().unwrap(), "1500".parse().unwrap());
        assert_eq!("1e-05".parse::<Amount>().unwrap(), "0.00001".parse().unwrap());
        assert_eq!("1e+15".parse::<Amount>().unwrap().units(), MAX_INPUT_UNITS);
        assert_eq!("1e+16".parse::<Amount>(), Err(AmountProblem::OutOfRange));
        assert_eq!("1e-21".parse::<Amount>(), Err(AmountProblem::TooManyDecimals));
        assert_eq!("-5e3".parse::<Amount>(), Err(AmountProblem::Negative));
        assert_eq!("0e999".parse::<Amount>(), Ok(Amount::ZERO));
        assert_eq!("1e99999999999".parse::<Amount>(), Err(AmountProblem::NotANumber));
    }

    #[test]
    fn base10000_matches_text() {
        // 12345.6789 = [1, 2345, 6789] with weight 1
        let a = Amount::from_base10000(false, 1, &[1, 2345, 6789]).unwrap();
        assert_eq!(a, "12345.6789".parse().unwrap());
        // 0.0001 = [1] with weight -1
        let a = Amount::from_base10000(false, -1, &[1]).unwrap();
        assert_eq!(a, "0.0001".parse().unwrap());
        // 10^15 = [1000, 0, 0, 0] with weight 3
        let a = Amount::from_base10000(false, 3, &[1000, 0, 0, 0]).unwrap();
        assert_eq!(a.units(), MAX_INPUT_UNITS);
        assert_eq!(Amount::from_base10000(false, 3, &[1000, 0, 0, 1]), Err(AmountProblem::OutOfRange));
        assert_eq!(Amount::from_base10000(false, 4, &[1]), Err(AmountProblem::OutOfRange));
        assert_eq!(Amount::from_base10000(false, -6, &[1]), Err(AmountProblem::TooManyDecimals));
        assert_eq!(Amount::from_base10000::<u16>(true, 0, &[]), Ok(Amount::ZERO));
        assert_eq!(Amount::from_base10000(true, 0, &[5]), Err(AmountProblem::Negative));
    }

    #[test]
    fn displays() {
        assert_eq!(Fixed::cents(40).to_string(), "0.40");
        assert_eq!(Fixed::cents(-5).to_string(), "-0.05");
        assert_eq!(Fixed::cents(123456).to_string(), "1234.56");
        assert_eq!("1000.50".parse::<Amount>().unwrap().to_string(), "1000.5");
        assert_eq!("7".parse::<Amount>().unwrap().to_string(), "7");
    }
}
