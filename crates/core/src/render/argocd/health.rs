//! Argo CD health checks (Lua, `resource.customizations.health.<group>_<kind>` in `argocd-cm`)
//! for the VSO kinds the tree creates, with the semantics of the Flux CEL health checks of
//! [`crate::versions`] for the same VSO line: a verdict on an older generation is
//! Progressing; a failure the operator reports is Degraded; Healthy only for the current
//! generation's success; anything else Progressing.
//!
//! Argo CD v3.5.1 ships no script for `secrets.hashicorp.com` kinds (argo-cd#27916 proposes a
//! VaultStaticSecret check that reports Healthy once `secretMAC` is set, which hides later
//! failures: here a VSO 1.x `Healthy=False` on the current generation is Degraded). Argo CD
//! runs a script with gopher-lua (Lua 5.1): the object is the global `obj`, the script returns
//! `{status = ..., message = ...}`. Numbers are Lua numbers, so `lastGeneration` and
//! `metadata.generation` compare as numbers.
//!
//! ESO's and cert-manager's kinds have Argo CD's own checks. An Application has none since
//! Argo CD 1.8: without one, the root does not wait for a wave's Applications to be healthy
//! before the next wave, so the patch carries Argo CD's documented one.

use crate::versions::{VsoLine, SECRET_KINDS, VSO_API_VERSION};
use std::collections::BTreeMap;

/// The `argocd-cm` keys and their scripts for `line`.
pub fn customizations(line: Option<VsoLine>) -> BTreeMap<String, String> {
    let group = VSO_API_VERSION.split('/').next().unwrap_or_default();
    let mut out = BTreeMap::new();
    // Without VSO in the tree, no VSO kind to read the health of.
    if let Some(line) = line {
        for kind in SECRET_KINDS.iter().chain(&["VaultAuth", "VaultConnection"]) {
            out.insert(
                format!("resource.customizations.health.{group}_{kind}"),
                script(line, kind),
            );
        }
    }
    out.insert(
        "resource.customizations.health.argoproj.io_Application".to_string(),
        APPLICATION.to_string(),
    );
    out
}

/// The status of the current generation not yet recorded: Progressing.
const STALE: &str = r#"if obj.status == nil or obj.status.lastGeneration == nil or obj.metadata == nil or obj.status.lastGeneration ~= obj.metadata.generation then
  return {status = "Progressing", message = "Waiting for the operator to sync the current generation"}
end
"#;

/// `status.conditions[type]` with `status` (`"True"`/`"False"`): its message, or nil.
const CONDITION: &str = r#"local function condition(t, s)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t and c.status == s then
      return c.message or c.reason or ""
    end
  end
  return nil
end
"#;

/// `status.valid == false` is Degraded (with `status.error`), `true` Healthy.
const VALID: &str = r#"if obj.status ~= nil and obj.status.valid == false then
  return {status = "Degraded", message = obj.status.error or "The operator reports it invalid"}
end
if obj.status ~= nil and obj.status.valid == true then
  return {status = "Healthy", message = "Valid"}
end
"#;

const WAITING: &str = r#"return {status = "Progressing", message = "Waiting for the operator"}
"#;

/// The script for one kind on one VSO line (see the module doc and [`crate::versions`]).
pub fn script(line: VsoLine, kind: &str) -> String {
    match (line, kind) {
        (_, "VaultAuth" | "VaultConnection") => format!("{VALID}{WAITING}"),
        // A failed reconcile writes Healthy=False at once, with the current generation.
        (VsoLine::V1, _) => format!(
            r#"{CONDITION}{STALE}local failed = condition("Healthy", "False")
if failed ~= nil then
  return {{status = "Degraded", message = failed}}
end
local healthy = condition("Healthy", "True")
if healthy ~= nil then
  return {{status = "Healthy", message = healthy}}
end
{WAITING}"#
        ),
        // 0.10 writes `valid` (false with `error`) and the generation on every sync.
        (VsoLine::V0_10, "VaultPKISecret") => format!("{STALE}{VALID}{WAITING}"),
        // 0.10 writes status only after a successful sync: nothing reports a failure.
        (VsoLine::V0_10, _) => format!(
            r#"{STALE}return {{status = "Healthy", message = "Synced"}}
"#
        ),
    }
}

/// Argo CD's documented health check for an Application (removed from the defaults in 1.8):
/// an app-of-apps waits for each wave's Applications to be healthy.
const APPLICATION: &str = r#"local hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"#;
