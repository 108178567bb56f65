// A file asking for what chainrule does not compute: every part is named
// in one error at the path, and code using the type reports nothing more.
chainrule::network! {
    struct Amp { nam: "../../../../tests/ui/nam/unsupported.nam" }
}

fn main() {
    let mut amp = Amp::new();
    let mut out = [0.0f32; 4];
    amp.process(&[0.1; 4], &mut out);
    amp.reset();
}
