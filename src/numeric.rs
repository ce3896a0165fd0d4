//! PostgreSQL `numeric` ⇄ exact core values, read and written from their
//! base-10000 digits.
//!
//! Going through text (`numeric_out` + parsing) costs about 0.45 µs per row
//! for three inputs, three times the whole call floor, so the on-disk layout
//! is read directly. That layout is fixed by `pg_upgrade` compatibility
//! (src/backend/utils/adt/numeric.c, "NumericData"):
//!
//! ```text
//! varlena header | uint16 n_header | digits...               (short format)
//! varlena header | uint16 sign_dscale | int16 weight | digits (long format)
//! ```
//!
//! Digits are int16 in 0..=9999, most significant first; the first is worth
//! 10000^weight.

use credit_core::{Amount, AmountProblem, Fixed};
use pgrx::pg_sys;

const NUMERIC_SIGN_MASK: u16 = 0xC000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_SHORT: u16 = 0x8000;
const NUMERIC_SPECIAL: u16 = 0xC000;
const NUMERIC_EXT_SIGN_MASK: u16 = 0xF000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_SHORT_SIGN_MASK: u16 = 0x2000;
const NUMERIC_SHORT_DSCALE_SHIFT: u16 = 7;
const NUMERIC_SHORT_WEIGHT_SIGN_MASK: u16 = 0x0040;
const NUMERIC_SHORT_WEIGHT_MASK: u16 = 0x003F;
/// An input in range has at most 9 digits (4 integer + 5 fraction
/// base-10000 digits, ends nonzero as PostgreSQL stores them); longer ones
/// are out of range or too precise, and are not read in full.
const MAX_INPUT_DIGITS: usize = 16;

/// What a numeric datum holds, read in place. Digits are native-endian
/// byte pairs: a numeric read from a tuple with a 1-byte varlena header
/// sits at an odd address, where a `&[u16]` must not be formed.
pub enum NumericValue<'a> {
    NaN,
    Infinity,
    Finite { negative: bool, weight: i32, digits: &'a [[u8; 2]] },
}

/// Reads a numeric datum.
///
/// # Safety
/// `datum` must be a non-null `numeric` datum, valid for the current call.
#[inline(always)]
pub unsafe fn read<'a>(datum: pg_sys::Datum) -> NumericValue<'a> {
    unsafe {
        let v: *mut pg_sys::varlena = datum.cast_mut_ptr();
        // Detoast only compressed or out-of-line values (rare for a
        // numeric); plain and short-header ones are read where they are.
        let v = if needs_detoast(v) { pg_sys::pg_detoast_datum_packed(v) } else { v };
        let len = pgrx::varlena::varsize_any_exhdr(v);
        let data = pgrx::varlena::vardata_any(v) as *const u8;
        let header = (data as *const u16).read_unaligned();
        if header & NUMERIC_SIGN_MASK == NUMERIC_SPECIAL {
            return match header & NUMERIC_EXT_SIGN_MASK {
                NUMERIC_NAN => NumericValue::NaN,
                _ => NumericValue::Infinity,
            };
        }
        let (negative, weight, digits_at) = if header & NUMERIC_SIGN_MASK == NUMERIC_SHORT {
            let weight_bits = i32::from(header & NUMERIC_SHORT_WEIGHT_MASK);
            let weight =
                if header & NUMERIC_SHORT_WEIGHT_SIGN_MASK != 0 { weight_bits | !0x3F } else { weight_bits };
            (header & NUMERIC_SHORT_SIGN_MASK != 0, weight, 2)
        } else {
            let weight = (data.add(2) as *const i16).read_unaligned();
            (header & NUMERIC_SIGN_MASK == NUMERIC_NEG, i32::from(weight), 4)
        };
        let count = len.saturating_sub(digits_at) / 2;
        let digits = std::slice::from_raw_parts(data.add(digits_at) as *const [u8; 2], count);
        NumericValue::Finite { negative, weight, digits }
    }
}

/// A varlena datum in plain form: detoasted only when compressed or out of
/// line (short headers are fine for reading).
///
/// # Safety
/// `d` is a non-null varlena datum.
pub unsafe fn detoasted(d: pg_sys::Datum) -> pg_sys::Datum {
    unsafe {
        let v: *mut pg_sys::varlena = d.cast_mut_ptr();
        if needs_detoast(v) {
            pg_sys::Datum::from(pg_sys::pg_detoast_datum_packed(v))
        } else {
            d
        }
    }
}

/// VARATT_IS_EXTERNAL or VARATT_IS_COMPRESSED, from the first header byte.
unsafe fn needs_detoast(v: *const pg_sys::varlena) -> bool {
    let first = unsafe { *(v as *const u8) };
    if cfg!(target_endian = "little") {
        first == 0x01 || first & 0x03 == 0x02
    } else {
        first == 0x80 || first & 0xC0 == 0x40
    }
}

/// A numeric datum as an exact input amount.
///
/// # Safety
/// As for [`read`].
#[inline(always)]
pub unsafe fn to_amount(datum: pg_sys::Datum) -> Result<Amount, AmountProblem> {
    match unsafe { read(datum) } {
        NumericValue::NaN => Err(AmountProblem::NotANumber),
        NumericValue::Infinity => Err(AmountProblem::Infinite),
        NumericValue::Finite { negative, weight, digits } => {
            if digits.len() > MAX_INPUT_DIGITS {
                // Too long to be in range and exact; tell which.
                return Err(match Amount::from_base10000(negative, weight, &digits[..1]) {
                    Err(p) => p,
                    Ok(_) => AmountProblem::TooManyDecimals,
                });
            }
            Amount::from_base10000(negative, weight, digits)
        }
    }
}

/// The text of a numeric datum, for error messages only (slow path).
///
/// # Safety
/// As for [`read`].
pub unsafe fn to_text(datum: pg_sys::Datum) -> String {
    let text = unsafe { pgrx::direct_function_call::<&std::ffi::CStr>(pg_sys::numeric_out, &[Some(datum)]) };
    text.map(|t| t.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A new numeric datum, palloc'd in the current memory context.
pub fn from_fixed(value: Fixed) -> pg_sys::Datum {
    let mut payload = Vec::with_capacity(64);
    encode(value, &mut payload);
    crate::tuple::varlena_datum(&payload)
}

/// Writes the base-10000 digits of `abs / one`, least significant first, the
/// fraction aligned to `groups` whole digits (scaled by `align`); returns
/// how many. Generic so that values fitting 64 bits divide in 64 bits.
fn base10000<T>(abs: T, one: T, align: T, groups: u32, digits: &mut [u16; 24]) -> usize
where
    T: Copy + PartialOrd + From<u16> + TryInto<u16>,
    T: std::ops::Div<Output = T> + std::ops::Rem<Output = T> + std::ops::Mul<Output = T>,
{
    let base = T::from(10_000);
    let zero = T::from(0);
    let mut count = 0;
    let mut push = |x: T| {
        digits[count] = (x % base).try_into().unwrap_or(0);
        count += 1;
    };
    let mut fraction = (abs % one) * align;
    for _ in 0..groups {
        push(fraction);
        fraction = fraction / base;
    }
    let mut integer = abs / one;
    while integer > zero {
        push(integer);
        integer = integer / base;
    }
    count
}

/// Appends the contents (without varlena header) of the numeric `value`
/// to `out`, in the canonical form `make_result()` produces: short format,
/// no leading or trailing zero digits, zero with no digits and a positive
/// sign.
pub fn encode(value: Fixed, out: &mut Vec<u8>) {
    // Base-10000 digits, least significant first: the fraction aligned to
    // whole digits (units of 10^-4k), then the integer part. Split before
    // scaling so that no intermediate product can overflow; 64-bit
    // arithmetic when the value fits (divisions by constants stay cheap).
    let groups = value.scale.div_ceil(4);
    let abs = value.units.unsigned_abs();
    let mut digits = [0u16; 24];
    let count = match (u64::try_from(abs), value.scale <= 19) {
        (Ok(abs), true) => {
            base10000(abs, 10u64.pow(value.scale), 10u64.pow(groups * 4 - value.scale), groups, &mut digits)
        }
        _ => {
            base10000(abs, 10u128.pow(value.scale), 10u128.pow(groups * 4 - value.scale), groups, &mut digits)
        }
    };
    // Trailing zeros (low end) raise the lowest weight; leading zeros go.
    let trailing = digits[..count].iter().take_while(|&&d| d == 0).count();
    let lowest_weight = trailing as i32 - groups as i32;
    let mut top = count;
    while top > trailing && digits[top - 1] == 0 {
        top -= 1;
    }
    let digits = &digits[trailing..top];
    let count = digits.len();
    let negative = value.units < 0 && count > 0;
    let weight = if count == 0 { 0 } else { lowest_weight + count as i32 - 1 };
    debug_assert!((-64..=63).contains(&weight) && value.scale <= 63);

    let header = NUMERIC_SHORT
        | if negative { NUMERIC_SHORT_SIGN_MASK } else { 0 }
        | ((value.scale as u16) << NUMERIC_SHORT_DSCALE_SHIFT)
        | if weight < 0 { NUMERIC_SHORT_WEIGHT_SIGN_MASK } else { 0 }
        | (weight as u16 & NUMERIC_SHORT_WEIGHT_MASK);
    out.extend_from_slice(&header.to_ne_bytes());
    // Most significant digit first.
    for d in digits.iter().rev() {
        out.extend_from_slice(&d.to_ne_bytes());
    }
}
