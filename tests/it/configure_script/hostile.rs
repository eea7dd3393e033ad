//! Hostile values: shell metacharacters in every spec field reach a stub `vault` (which records
//! its argv) intact, and never run.

use crate::support::common::*;
use crate::support::vault_fakes::parse_argv_log;

/// A `vault` that changes nothing: it records each call's argv as the vault CLI would read
/// its values (`k=\@v` is `k=@v`; `k=@FILE` is the file's content; `k=-` and `-` are stdin),
/// finds no existing mount, auth method, connection or issuer, and succeeds.
const STUB_VAULT: &str = r#"#!/bin/bash
exec 3>>"$STUB_LOG"
printf '%s\0' "$#" >&3
for a in "$@"; do
  case "$a" in
    -) v=$(cat; printf .); a="${v%.}" ;;
    -*) ;;
    *=\\@*) a="${a%%=\\@*}=@${a#*=\\@}" ;;
    *=@*) f="${a#*=@}"; if [ -r "$f" ]; then v=$(cat <"$f"; printf .); a="${a%%=@*}=${v%.}"; else a="${a%%=@*}=<cannot read $f>"; fi ;;
    *=-) v=$(cat; printf .); a="${a%=-}=${v%.}" ;;
  esac
  printf '%s\0' "$a" >&3
done
case "$1" in
  read) case "${*: -1}" in */config/issuers) exit 0 ;; *) echo "No value found" >&2; exit 2 ;; esac ;;
  audit) [ "$2" = list ] && echo '{}' ;;
esac
exit 0
"#;

fn set(v: &mut serde_yaml::Value, path: &[&str], value: &str) {
    let mut cur = v;
    for key in path {
        cur = match key.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*key],
        };
    }
    *cur = value.into();
}

fn rename(v: &mut serde_yaml::Value, path: &[&str], from: &str, to: &str) {
    let mut cur = &mut *v;
    for key in path {
        cur = &mut cur[*key];
    }
    let map = cur.as_mapping_mut().unwrap();
    let item = map.remove(from).unwrap();
    map.insert(to.into(), item);
}

const HOSTILE_BASE: &str = r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {version: 0.30.0}
  tls: vault-tls
operator:
  chart: {version: 0.10.0}
  clientCache: {transitMount: vso-transit, keyName: vso-cache, role: vso-operator}
apps:
  - name: api
    namespace: shop
    serviceAccount: api-sa
    role: api-role
    audiences: [vault]
    secrets:
      - name: api-config
        kv: {mount: apps-kv, path: shop/api}
      - name: api-db
        database: {mount: db, role: shop-api}
      - name: api-tls
        pki: {mount: pki, role: shop}
        commonName: api.shop.svc.cluster.local
      - name: api-aws
        dynamic: {mount: aws, path: creds/deploy}
certManager:
  issuer: {name: vault-issuer, pki: {mount: pki_int, role: ingress}}
vaultConfig:
  tokenPeriod: 2h
  kubernetesAuth:
    mount: kubernetes
    host: https://k8s.example.com:6443
    caCertFrom: file:ca.crt
    disableLocalCaJwt: true
    tokenReviewer: {mode: serviceAccount, jwtFrom: file:reviewer.jwt}
  databases:
    db:
      plugin: postgresql
      connectionUrl: "postgresql://{{username}}:{{password}}@db:5432/postgres"
      username: vault_admin
      passwordFrom: file:pg.pw
      connectionName: shop-db
      roles:
        shop-api:
          defaultTtl: 5m
          maxTtl: 1h
          creationStatements: [CREATE ROLE x]
          revocationStatements: [DROP ROLE x]
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {commonName: Lab Root CA, ttl: 87600h}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
    pki_int:
      intermediateCA: {signedBy: pki, commonName: Lab Intermediate CA, ttl: 43800h}
      roles:
        ingress: {allowedDomains: [example.com]}
  audit:
    type: file
    path: file
    options: {file_path: /vault/audit.log}
"#;

type Mutation = fn(&mut serde_yaml::Value, &str);

/// Every spec field whose value reaches the script, and how to put a value there.
fn hostile_fields() -> Vec<(&'static str, Mutation)> {
    vec![
        ("cluster", |v, p| set(v, &["cluster"], p)),
        ("kubernetesAuth.mount", |v, p| {
            set(v, &["vaultConfig", "kubernetesAuth", "mount"], p)
        }),
        ("kubernetesAuth.host", |v, p| {
            set(
                v,
                &["vaultConfig", "kubernetesAuth", "host"],
                &format!("https://k8s/{p}"),
            )
        }),
        ("kubernetesAuth.caCertFrom", |v, p| {
            set(
                v,
                &["vaultConfig", "kubernetesAuth", "caCertFrom"],
                &format!("file:{p}"),
            )
        }),
        ("tokenReviewer.jwtFrom file", |v, p| {
            set(
                v,
                &["vaultConfig", "kubernetesAuth", "tokenReviewer", "jwtFrom"],
                &format!("file:{p}"),
            )
        }),
        ("tokenReviewer.jwtFrom env", |v, p| {
            set(
                v,
                &["vaultConfig", "kubernetesAuth", "tokenReviewer", "jwtFrom"],
                &format!("env:{p}"),
            )
        }),
        ("tokenPeriod", |v, p| {
            set(v, &["vaultConfig", "tokenPeriod"], p)
        }),
        ("databases.<mount>", |v, p| {
            rename(v, &["vaultConfig", "databases"], "db", p);
            set(v, &["apps", "0", "secrets", "1", "database", "mount"], p);
        }),
        ("databases.connectionUrl", |v, p| {
            set(
                v,
                &["vaultConfig", "databases", "db", "connectionUrl"],
                &format!("postgresql://{{{{username}}}}:{{{{password}}}}@{p}"),
            )
        }),
        ("databases.username", |v, p| {
            set(v, &["vaultConfig", "databases", "db", "username"], p)
        }),
        ("databases.passwordFrom file", |v, p| {
            set(
                v,
                &["vaultConfig", "databases", "db", "passwordFrom"],
                &format!("file:{p}"),
            )
        }),
        ("databases.passwordFrom env", |v, p| {
            set(
                v,
                &["vaultConfig", "databases", "db", "passwordFrom"],
                &format!("env:{p}"),
            )
        }),
        ("databases.connectionName", |v, p| {
            set(v, &["vaultConfig", "databases", "db", "connectionName"], p)
        }),
        ("databases.roles.<name>", |v, p| {
            rename(
                v,
                &["vaultConfig", "databases", "db", "roles"],
                "shop-api",
                p,
            );
            set(v, &["apps", "0", "secrets", "1", "database", "role"], p);
        }),
        ("databases.roles.creationStatements", |v, p| {
            set(
                v,
                &[
                    "vaultConfig",
                    "databases",
                    "db",
                    "roles",
                    "shop-api",
                    "creationStatements",
                    "0",
                ],
                p,
            )
        }),
        ("databases.roles.revocationStatements", |v, p| {
            set(
                v,
                &[
                    "vaultConfig",
                    "databases",
                    "db",
                    "roles",
                    "shop-api",
                    "revocationStatements",
                    "0",
                ],
                p,
            )
        }),
        ("databases.roles.defaultTtl", |v, p| {
            set(
                v,
                &[
                    "vaultConfig",
                    "databases",
                    "db",
                    "roles",
                    "shop-api",
                    "defaultTtl",
                ],
                p,
            )
        }),
        ("pki.<mount>", |v, p| {
            rename(v, &["vaultConfig", "pki"], "pki", p);
            set(v, &["apps", "0", "secrets", "2", "pki", "mount"], p);
            set(
                v,
                &[
                    "vaultConfig",
                    "pki",
                    "pki_int",
                    "intermediateCA",
                    "signedBy",
                ],
                p,
            );
        }),
        ("pki.<intermediate mount>", |v, p| {
            rename(v, &["vaultConfig", "pki"], "pki_int", p);
            set(v, &["certManager", "issuer", "pki", "mount"], p);
        }),
        ("pki.intermediateCA.commonName", |v, p| {
            set(
                v,
                &[
                    "vaultConfig",
                    "pki",
                    "pki_int",
                    "intermediateCA",
                    "commonName",
                ],
                p,
            )
        }),
        ("pki.intermediateCA.ttl", |v, p| {
            set(
                v,
                &["vaultConfig", "pki", "pki_int", "intermediateCA", "ttl"],
                p,
            )
        }),
        ("certManager.issuer.name", |v, p| {
            set(v, &["certManager", "issuer", "name"], p)
        }),
        ("certManager.issuer.role", |v, p| {
            set(v, &["certManager", "issuer", "role"], p)
        }),
        ("certManager.issuer.serviceAccount", |v, p| {
            set(v, &["certManager", "issuer", "serviceAccount"], p)
        }),
        ("certManager.issuer.pki.role", |v, p| {
            rename(v, &["vaultConfig", "pki", "pki_int", "roles"], "ingress", p);
            set(v, &["certManager", "issuer", "pki", "role"], p);
        }),
        ("pki.maxLeaseTtl", |v, p| {
            set(v, &["vaultConfig", "pki", "pki", "maxLeaseTtl"], p)
        }),
        ("pki.rootCA.commonName", |v, p| {
            set(v, &["vaultConfig", "pki", "pki", "rootCA", "commonName"], p)
        }),
        ("pki.rootCA.ttl", |v, p| {
            set(v, &["vaultConfig", "pki", "pki", "rootCA", "ttl"], p)
        }),
        ("pki.roles.<name>", |v, p| {
            rename(v, &["vaultConfig", "pki", "pki", "roles"], "shop", p);
            set(v, &["apps", "0", "secrets", "2", "pki", "role"], p);
        }),
        ("pki.roles.allowedDomains", |v, p| {
            set(
                v,
                &[
                    "vaultConfig",
                    "pki",
                    "pki",
                    "roles",
                    "shop",
                    "allowedDomains",
                    "0",
                ],
                p,
            )
        }),
        ("pki.roles.maxTtl", |v, p| {
            set(
                v,
                &["vaultConfig", "pki", "pki", "roles", "shop", "maxTtl"],
                p,
            )
        }),
        ("audit.path", |v, p| {
            set(v, &["vaultConfig", "audit", "path"], p)
        }),
        ("audit.type", |v, p| {
            set(v, &["vaultConfig", "audit", "type"], p)
        }),
        ("audit.options.<key>", |v, p| {
            rename(v, &["vaultConfig", "audit", "options"], "file_path", p)
        }),
        ("audit.options value", |v, p| {
            set(v, &["vaultConfig", "audit", "options", "file_path"], p)
        }),
        ("apps.name", |v, p| set(v, &["apps", "0", "name"], p)),
        ("apps.namespace", |v, p| {
            set(v, &["apps", "0", "namespace"], p)
        }),
        ("apps.serviceAccount", |v, p| {
            set(v, &["apps", "0", "serviceAccount"], p)
        }),
        ("apps.role", |v, p| set(v, &["apps", "0", "role"], p)),
        ("apps.audiences", |v, p| {
            set(v, &["apps", "0", "audiences", "0"], p)
        }),
        ("kv.mount", |v, p| {
            set(v, &["apps", "0", "secrets", "0", "kv", "mount"], p)
        }),
        ("kv.path", |v, p| {
            set(v, &["apps", "0", "secrets", "0", "kv", "path"], p)
        }),
        ("dynamic.mount", |v, p| {
            set(v, &["apps", "0", "secrets", "3", "dynamic", "mount"], p)
        }),
        ("dynamic.path", |v, p| {
            set(v, &["apps", "0", "secrets", "3", "dynamic", "path"], p)
        }),
        ("clientCache.transitMount", |v, p| {
            set(v, &["operator", "clientCache", "transitMount"], p)
        }),
        ("clientCache.keyName", |v, p| {
            set(v, &["operator", "clientCache", "keyName"], p)
        }),
        ("clientCache.role", |v, p| {
            set(v, &["operator", "clientCache", "role"], p)
        }),
    ]
}

/// Whether `arg` (as the vault CLI reads it) carries `payload` unchanged.
fn carries(arg: &str, payload: &str) -> bool {
    arg == payload
        || arg.ends_with(&format!("={payload}"))
        || arg.contains(&format!("/{payload}"))
        || arg.contains(&format!("{payload}/"))
        || arg.contains(&format!("\"{payload}\""))
        || (payload.len() > 3 && arg.contains(payload))
}

#[test]
fn shell_metacharacters_in_any_field_never_run_and_arrive_intact() {
    let payloads = [
        "k8s;touch${IFS}PWNED;x",
        "$(touch${IFS}PWNED)`touch${IFS}PWNED`'x\"",
        "a\ntouch PWNED\n#",
        "x|touch PWNED&&touch PWNED>PWNED",
        "@PWNED-FILE",
        "-",
    ];
    let work = tempfile::tempdir().unwrap();
    let stub_dir = tempfile::tempdir().unwrap();
    let stub = stub_dir.path().join("vault");
    std::fs::write(&stub, STUB_VAULT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path_env = format!(
        "{}:{}",
        stub_dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let mut accepted = 0;
    let mut refused = Vec::new();
    for (field, mutate) in hostile_fields() {
        for payload in payloads {
            let case = format!("{field} = {payload:?}");
            let dir = tempfile::tempdir_in(work.path()).unwrap();
            let cwd = dir.path();
            let marker = format!("content-of-{}", field.replace(' ', "-"));
            for f in ["ca.crt", "reviewer.jwt", "pg.pw"] {
                std::fs::write(cwd.join(f), format!("{marker}-{f}")).unwrap();
            }
            let is_file_field = field.ends_with(" file") || field.ends_with("caCertFrom");
            if is_file_field {
                std::fs::write(cwd.join(payload), &marker).unwrap();
            }
            let mut spec: serde_yaml::Value = serde_yaml::from_str(HOSTILE_BASE).unwrap();
            mutate(&mut spec, payload);
            let spec_path = cwd.join("vault.yaml");
            std::fs::write(&spec_path, serde_yaml::to_string(&spec).unwrap()).unwrap();

            let o = bin()
                .args(["configure", "--script", "-f", "vault.yaml"])
                .current_dir(cwd)
                .output()
                .unwrap();
            let out = cwd.join("gitops");
            let g = bin()
                .args(["generate", "-f", "vault.yaml", "--out"])
                .arg(&out)
                .current_dir(cwd)
                .output()
                .unwrap();
            assert_eq!(
                o.status.code(),
                g.status.code(),
                "{case}: configure --script and generate disagree: {}{}",
                stderr(&o),
                stderr(&g)
            );
            match o.status.code() {
                Some(2) => {
                    refused.push(case);
                    continue;
                }
                Some(0) => accepted += 1,
                other => panic!("{case}: exit {other:?}: {}", stderr(&o)),
            }
            let printed = cwd.join("printed.sh");
            std::fs::write(&printed, &o.stdout).unwrap();
            let generated = std::fs::read_dir(out.join("vault-config"))
                .unwrap()
                .flatten()
                .map(|d| d.path().join("configure.sh"))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("{case}: no generated configure.sh"));
            for script in [printed, generated] {
                let log = cwd.join("argv.log");
                let _ = std::fs::remove_file(&log);
                let r = std::process::Command::new("bash")
                    .arg(&script)
                    .current_dir(cwd)
                    .env("PATH", &path_env)
                    .env("STUB_LOG", &log)
                    .output()
                    .unwrap();
                assert!(
                    r.status.success(),
                    "{case}: {} exit {:?}\n{}{}",
                    script.display(),
                    r.status.code(),
                    stdout(&r),
                    stderr(&r)
                );
                assert!(
                    !cwd.join("PWNED").exists(),
                    "{case}: {} ran an injected command",
                    script.display()
                );
                let args: Vec<String> = parse_argv_log(&log).into_iter().flatten().collect();
                // The whole value as the spec holds it (some fields embed the payload).
                let whole = match field {
                    "kubernetesAuth.host" => format!("https://k8s/{payload}"),
                    "databases.connectionUrl" => {
                        format!("postgresql://{{{{username}}}}:{{{{password}}}}@{payload}")
                    }
                    "audit.options.<key>" => format!("{payload}=/vault/audit.log"),
                    _ => payload.to_string(),
                };
                let wanted = if is_file_field {
                    marker.as_str()
                } else {
                    whole.as_str()
                };
                assert!(
                    args.iter().any(|a| carries(a, wanted)),
                    "{case}: {} never handed `{wanted}` to vault intact:\n{args:#?}",
                    script.display()
                );
                assert!(
                    !args.iter().any(|a| a.contains("<cannot read")),
                    "{case}: vault would read a file the spec did not name:\n{args:#?}"
                );
            }
        }
    }
    // Both outcomes occur: the test exercises the quoting, not only the validation.
    assert!(
        accepted >= 20,
        "only {accepted} hostile specs were accepted; refused: {refused:#?}"
    );
}
