//! QR codes for meeting check-in, drawn on the server: an SVG image as a data URL (the page's
//! content security policy allows `data:` images and no inline styles).

use base64::Engine;

pub fn svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let image = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    )
}
