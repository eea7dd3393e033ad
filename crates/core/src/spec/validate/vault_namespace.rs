//! `vaultNamespace`: the Vault namespace every login and `configure` go to (Vault Enterprise,
//! HCP Vault, OpenBao 2.x), e.g. `admin` or `admin/team-a`.

use super::rules::{is_vault_name, Checker};
use crate::spec::scan::shown;

/// Names Vault refuses for a namespace (they are paths of every namespace's own API).
const RESERVED: [&str; 6] = ["root", "sys", "audit", "auth", "cubbyhole", "identity"];

pub(super) fn check(c: &mut Checker, namespace: Option<&str>) {
    let Some(ns) = namespace else { return };
    let path = "vaultNamespace";
    c.not_null(path);
    if ns.starts_with('/') || ns.ends_with('/') {
        c.error(
            path,
            format!("`{}` starts or ends with `/`", shown(ns)),
            "write the namespace path without a leading or trailing slash, e.g. `admin` or `admin/team-a`",
        );
        return;
    }
    if ns.len() > 512 || !ns.split('/').all(is_vault_name) {
        c.error(
            path,
            format!("`{}` is not a Vault namespace path", shown(ns)),
            "write namespace names (letters, digits and `_`, with `-` and `.` only inside) separated by `/`, e.g. `admin/team-a`",
        );
        return;
    }
    if let Some(r) = ns.split('/').find(|s| RESERVED.contains(s)) {
        c.error(
            path,
            format!("`{r}` is a reserved name, not a namespace"),
            "leave `vaultNamespace` out for the root namespace; otherwise name your namespace (e.g. `admin`)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::locate::LocationIndex;

    fn errors(ns: &str) -> usize {
        let index = LocationIndex::build("");
        let mut c = Checker::new(&index);
        check(&mut c, Some(ns));
        c.finish().errors.len()
    }

    #[test]
    fn a_namespace_path_is_names_between_slashes() {
        for good in ["admin", "admin/team-a", "a_b.c/d-1"] {
            assert_eq!(errors(good), 0, "{good}");
        }
        for bad in [
            "/admin",
            "admin/",
            "admin//x",
            "a b",
            "admin/root",
            "sys",
            "a*",
            "",
        ] {
            assert_eq!(errors(bad), 1, "{bad}");
        }
    }
}
