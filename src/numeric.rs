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
const VARHDRSZ: usize = 4;
/// Largest digit count an input in range can have (4 integer + 5 fraction
/// base-10000 digits); longer inputs are out of range or too precise.
const MAX_INPUT_DIGITS: usize = 64;

/// What a numeric datum says about itself, without copying its digits.
pub enum NumericView<'a> {
    NaN,
    Infinity,
    Finite {
        negative: bool,
        weight: i32,
        digits: &'a [u16],
    },
}

/// Reads a numeric datum in place.
///
/// # Safety
/// `datum` must be a non-null `numeric` datum, valid for the current call.
pub unsafe fn view<'a>(datum: pg_sys::Datum) -> NumericView<'a> {
    // SAFETY: the caller passes a numeric datum; detoasting a packed datum
    // returns it unchanged unless it is compressed or stored out of line.
    unsafe {
        let v = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
        let len = pgrx::varlena::varsize_any_exhdr(v);
        let data = pgrx::varlena::vardata_any(v) as *const u8;
        let header = (data as *const u16).read_unaligned();
        if header & NUMERIC_SIGN_MASK == NUMERIC_SPECIAL {
            return match header & NUMERIC_EXT_SIGN_MASK {
                NUMERIC_NAN => NumericView::NaN,
                _ => NumericView::Infinity,
            };
        }
        let (negative, weight, digits_at) = if header & NUMERIC_SIGN_MASK == NUMERIC_SHORT {
            let weight_bits = i32::from(header & NUMERIC_SHORT_WEIGHT_MASK);
            let weight = if header & NUMERIC_SHORT_WEIGHT_SIGN_MASK != 0 {
                weight_bits | !0x3F
            } else {
                weight_bits
            };
            (header & NUMERIC_SHORT_SIGN_MASK != 0, weight, 2)
        } else {
            let weight = (data.add(2) as *const i16).read_unaligned();
            (
                header & NUMERIC_SIGN_MASK == NUMERIC_NEG,
                i32::from(weight),
                4,
            )
        };
        let count = len.saturating_sub(digits_at) / 2;
        // Numeric data is 2-byte aligned only when the varlena header is
        // 4 bytes; with a 1-byte header it is not, so never form a &[u16]
        // over it unless aligned.
        let ptr = data.add(digits_at) as *const u16;
        let digits = if ptr.is_aligned() {
            std::slice::from_raw_parts(ptr, count)
        } else {
            unaligned_copy(ptr, count)
        };
        NumericView::Finite {
            negative,
            weight,
            digits,
        }
    }
}

/// Copies digits that sit at an odd address into a per-thread buffer.
/// Inputs in range have at most [`MAX_INPUT_DIGITS`] digits; longer ones
/// are cut to that length plus one, which still fails the range checks.
unsafe fn unaligned_copy<'a>(ptr: *const u16, count: usize) -> &'a [u16] {
    thread_local! {
        static BUF: std::cell::UnsafeCell<[u16; MAX_INPUT_DIGITS + 1]> =
            const { std::cell::UnsafeCell::new([0; MAX_INPUT_DIGITS + 1]) };
    }
    let n = count.min(MAX_INPUT_DIGITS + 1);
    BUF.with(|b| {
        // SAFETY: a backend is single-threaded and the slice is consumed
        // before the next call reuses the buffer.
        let buf = unsafe { &mut *b.get() };
        for (i, slot) in buf.iter_mut().enumerate().take(n) {
            *slot = unsafe { ptr.add(i).read_unaligned() };
        }
        unsafe { std::slice::from_raw_parts(buf.as_ptr(), n) }
    })
}

/// A numeric datum as an exact input amount.
///
/// # Safety
/// As for [`view`].
pub unsafe fn to_amount(datum: pg_sys::Datum) -> Result<Amount, AmountProblem> {
    match unsafe { view(datum) } {
        NumericView::NaN => Err(AmountProblem::NotANumber),
        NumericView::Infinity => Err(AmountProblem::Infinite),
        NumericView::Finite {
            negative,
            weight,
            digits,
        } => {
            if digits.len() > MAX_INPUT_DIGITS {
                // Too long to be in range and exact; tell which.
                return Err(
                    match Amount::from_base10000(negative, weight, &digits[..1]) {
                        Err(p) => p,
                        Ok(_) => AmountProblem::TooManyDecimals,
                    },
                );
            }
            Amount::from_base10000(negative, weight, digits)
        }
    }
}

/// The text of a numeric datum, for error messages only (slow path).
///
/// # Safety
/// As for [`view`].
pub unsafe fn to_text(datum: pg_sys::Datum) -> String {
    let text = unsafe {
        pgrx::direct_function_call::<&std::ffi::CStr>(pg_sys::numeric_out, &[Some(datum)])
    };
    text.map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A new numeric datum, palloc'd in the current memory context, in the
/// canonical form `make_result()` produces: short format, no leading or
/// trailing zero digits, zero with no digits and a positive sign.
pub fn from_fixed(value: Fixed) -> pg_sys::Datum {
    // Base-10000 digits, least significant first: the fraction aligned to
    // whole digits (units of 10^-4k), then the integer part. Split before
    // scaling so that no intermediate product can overflow.
    let groups = value.scale.div_ceil(4);
    let one = 10u128.pow(value.scale);
    let abs = value.units.unsigned_abs();
    let mut fraction = (abs % one) * 10u128.pow(groups * 4 - value.scale);
    let mut integer = abs / one;
    let mut digits = [0u16; 24];
    let mut count = 0;
    for _ in 0..groups {
        digits[count] = (fraction % 10_000) as u16;
        fraction /= 10_000;
        count += 1;
    }
    while integer > 0 {
        digits[count] = (integer % 10_000) as u16;
        integer /= 10_000;
        count += 1;
    }
    // Trailing zeros (low end) raise the lowest weight; leading zeros go.
    let trailing = digits[..count].iter().take_while(|&&d| d == 0).count();
    let lowest_weight = trailing as i32 - groups as i32;
    let digits_lo = &mut digits[trailing..count];
    let mut count = digits_lo.len();
    while count > 0 && digits_lo[count - 1] == 0 {
        count -= 1;
    }
    let digits = &mut digits_lo[..count];
    digits.reverse();
    let negative = value.units < 0 && count > 0;
    let weight = if count == 0 {
        0
    } else {
        lowest_weight + count as i32 - 1
    };
    debug_assert!((-64..=63).contains(&weight) && value.scale <= 63);

    let header = NUMERIC_SHORT
        | if negative { NUMERIC_SHORT_SIGN_MASK } else { 0 }
        | ((value.scale as u16) << NUMERIC_SHORT_DSCALE_SHIFT)
        | if weight < 0 {
            NUMERIC_SHORT_WEIGHT_SIGN_MASK
        } else {
            0
        }
        | (weight as u16 & NUMERIC_SHORT_WEIGHT_MASK);
    let size = VARHDRSZ + 2 + 2 * count;
    // SAFETY: a fresh allocation of `size` bytes, fully written below.
    unsafe {
        let p = pg_sys::palloc(size) as *mut u8;
        pgrx::set_varsize_4b(p as *mut pg_sys::varlena, size as i32);
        (p.add(VARHDRSZ) as *mut u16).write(header);
        std::ptr::copy_nonoverlapping(digits.as_ptr(), p.add(VARHDRSZ + 2) as *mut u16, count);
        pg_sys::Datum::from(p)
    }
}
