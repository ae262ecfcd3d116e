//! Any bytes a peer could send over MLLP, in any chunks: the decoder never panics, never
//! yields a frame larger than its limit, and yields the same frames however the bytes
//! were split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plateau_app::lab::hl7::MllpDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    const LIMIT: usize = 4096;
    let frames = MllpDecoder::new(LIMIT).push(bytes);
    for frame in frames.iter().flatten() {
        assert!(frame.len() <= LIMIT, "a frame of {} bytes passed a limit of {LIMIT}", frame.len());
    }
    let whole: Vec<String> = frames.into_iter().map(|r| format!("{r:?}")).collect();
    let chunk = usize::from(split % 16) + 1;
    let mut decoder = MllpDecoder::new(LIMIT);
    let mut pieces = Vec::new();
    for part in bytes.chunks(chunk) {
        pieces.extend(decoder.push(part).into_iter().map(|r| format!("{r:?}")));
    }
    assert_eq!(whole, pieces, "split every {chunk} bytes");
});
