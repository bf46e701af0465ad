//! The checker's trusted core (`src/checker`, `src/exact`, `src/format`,
//! `src/bin/verify.rs`) must not use the certifier's code or its arithmetic
//! library: a mistake there must not be able to vouch for itself.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn trusted_core_uses_nothing_of_the_certifier() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in ["src/checker", "src/exact", "src/format"] {
        rust_files(&root.join(d), &mut files);
    }
    files.push(root.join("src/bin/verify.rs"));
    assert!(files.len() >= 10, "found only {files:?}");
    let forbidden = ["certifier", "rug::", "use rug", "f64::sqrt", "as f32"];
    let mut lines = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        lines += text.lines().count();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            for word in forbidden {
                assert!(
                    !code.contains(word),
                    "{}:{}: trusted code mentions {word:?}: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
    eprintln!("trusted core: {} files, {lines} lines", files.len());
}
