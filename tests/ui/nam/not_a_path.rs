chainrule::network! {
    struct Amp { nam: ac10 }
}

fn main() {}
