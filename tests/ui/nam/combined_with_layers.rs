// `nam:` declares the whole network: another key beside it is an error at
// that key, and the file is still compiled.
chainrule::network! {
    struct Amp {
        nam: "../../../../data/nam/lstm.nam",
        layers: [dense(3)],
    }
}

fn main() {
    let _ = Amp::new();
}
