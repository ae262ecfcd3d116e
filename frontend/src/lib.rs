//! The WebAssembly client: hydrates the page the server rendered.
#![forbid(unsafe_code)]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(plateau_app::App);
    // Marks the page as interactive, for styles that differ with and without JavaScript
    // and for the browser tests, which wait for it.
    if let Some(html) = leptos::prelude::document().document_element() {
        let _ = html.set_attribute("data-hydrated", "true");
    }
}
