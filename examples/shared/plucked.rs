//! A generated guitar part, for the amp examples.

/// A guitar part by Karplus-Strong synthesis: each note a burst of noise
/// circulating in a delay line one period long, averaged with its
/// neighbour at every pass, so that it rings at the note's pitch and its
/// high partials die first, as a plucked string's do. Notes of an E minor
/// riff, one every quarter second, at a DI level (peak about 0.5).
pub fn plucked_strings(seconds: f64, rate: u32) -> Vec<f32> {
    let notes = [82.41, 123.47, 164.81, 196.0, 246.94, 196.0, 164.81, 123.47]; // E2 B2 E3 G3 B3 G3 E3 B2
    let (length, step) = ((seconds * f64::from(rate)) as usize, rate as usize / 4);
    let mut out = vec![0.0f32; length];
    let mut noise = 0x2545_f491_u32;
    for (n, start) in (0..length).step_by(step).enumerate() {
        let period = (f64::from(rate) / notes[n % notes.len()]).round() as usize;
        let mut line: Vec<f32> = (0..period)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                noise as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        // Each note rings for a second (or to the end), decaying 0.996 a pass.
        for (i, sample) in out[start..].iter_mut().take(rate as usize).enumerate() {
            let j = i % period;
            let next = 0.996 * 0.5 * (line[j] + line[(j + 1) % period]);
            *sample += line[j];
            line[j] = next;
        }
    }
    out
}
