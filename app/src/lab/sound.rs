//! The critical-value alarm: three short tones through the Web Audio API, so an alert is
//! heard even when nobody is looking at the tablet. Nothing happens during server
//! rendering, or where the browser has no audio.

/// Plays the alarm once.
pub fn alarm() {
    #[cfg(feature = "hydrate")]
    browser::alarm();
}

#[cfg(feature = "hydrate")]
mod browser {
    use web_sys::AudioContext;

    pub fn alarm() {
        // Browsers may refuse audio before the page was touched; the banner still shows.
        let Ok(context) = AudioContext::new() else {
            return;
        };
        let start = context.current_time();
        for beep in 0..3 {
            let _ = tone(&context, start + f64::from(beep) * 0.35);
        }
    }

    fn tone(context: &AudioContext, at: f64) -> Result<(), wasm_bindgen::JsValue> {
        let oscillator = context.create_oscillator()?;
        let gain = context.create_gain()?;
        oscillator.frequency().set_value(880.0);
        gain.gain().set_value(0.3);
        oscillator.connect_with_audio_node(&gain)?;
        gain.connect_with_audio_node(&context.destination())?;
        oscillator.start_with_when(at)?;
        oscillator.stop_with_when(at + 0.2)?;
        Ok(())
    }
}
