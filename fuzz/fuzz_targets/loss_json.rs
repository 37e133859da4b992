//! Loss JSON text → `objectives::from_keras_json_str`: never panics, and what it accepts
//! serializes back to JSON that it accepts again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(loss) = objectives::from_keras_json_str(text) else { return };
    let _ = (loss.name(), loss.class_name(), loss.reduction());
    let json = loss.to_keras_json();
    let again = objectives::from_keras_json_str(&json.to_string());
    assert!(again.is_ok(), "{text:?} → {json} → {:?}", again.err());
});
