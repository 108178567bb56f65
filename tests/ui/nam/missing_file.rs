chainrule::network! {
    struct Amp { nam: "models/no-such-amp.nam" }
}

fn main() {}
