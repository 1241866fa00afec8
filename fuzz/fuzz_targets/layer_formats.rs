#![no_main]
//! The other formats a layer's run reads: `*.tf.json` (translated to HCL, spans moved back),
//! kubeconfigs (contexts, exec profiles) and sops metadata (KMS keys).
use leverage_doctor::read::{hcl, kubeconfig, tf_json};
use leverage_doctor::source::{FileId, Span};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = tf_json::translate(&text)
        && let Ok(body) = hcl::parse_body(&t.hcl, FileId::DETACHED)
    {
        let refs = hcl::profile_refs(&body, &t.hcl, FileId::DETACHED, &Default::default(), "l");
        for r in refs.refs {
            let mut span: Span = r.span;
            t.remap(&mut span, FileId::DETACHED);
            if let Some(range) = span.range {
                assert!(text.get(range).is_some());
            }
        }
    }
    if let Ok(k) = kubeconfig::parse(&text) {
        for u in &k.users {
            if let Some(p) = kubeconfig::exec_profile(u, &text) {
                assert!(text.get(p.range).is_some());
            }
        }
    }
    for (range, ..) in hcl::sops_kms_keys(&text) {
        assert!(text.get(range).is_some());
    }
});
