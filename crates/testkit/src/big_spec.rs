//! Synthetic specs for the scale tests, the benchmarks and `examples/bigspec.rs`.

use std::fmt::Write;

/// A valid spec with `apps` apps (one namespace each) and `secrets_per_app` secrets per app,
/// cycling through kv, database and pki sources.
pub fn big_spec(apps: usize, secrets_per_app: usize) -> String {
    let mut s = String::with_capacity(apps * secrets_per_app * 160 + 2048);
    s.push_str(
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: scale\n\
vault:\n  namespace: vault\n  chart:\n    version: 0.30.0\n  replicas: 3\n  tls: vault-tls\n  ui: true\n\
operator:\n  namespace: vault-secrets-operator\n  chart:\n    version: 0.10.0\n\
apps:\n",
    );
    for a in 0..apps {
        let _ = write!(
            s,
            "  - name: app{a}\n    namespace: team{a}\n    serviceAccount: app{a}\n    secrets:\n"
        );
        for i in 0..secrets_per_app {
            match i % 3 {
                0 => {
                    let _ = write!(s, "      - name: app{a}-kv{i}\n        kv: kv/team{a}/app{a}/s{i}\n        refreshAfter: 60s\n");
                }
                1 => {
                    let _ = write!(s, "      - name: app{a}-db{i}\n        database: db/app\n        rollout:\n          - Deployment/app{a}\n");
                }
                _ => {
                    let _ = write!(s, "      - name: app{a}-tls{i}\n        pki: pki/internal\n        commonName: app{a}.team{a}.svc.cluster.local\n");
                }
            }
        }
    }
    s.push_str(
        "vaultConfig:\n  kubernetesAuth:\n    host: https://kubernetes.default.svc:443\n  databases:\n    db:\n      plugin: postgresql\n      connectionUrl: postgresql://{{username}}:{{password}}@db:5432/postgres\n      username: postgres\n      passwordFrom: env:DB_PASSWORD\n      roles:\n        app:\n          defaultTtl: 1h\n          creationStatements: [\"CREATE ROLE \\\"{{name}}\\\" WITH LOGIN PASSWORD '{{password}}';\"]\n  pki:\n    pki:\n      roles:\n        internal:\n          allowedDomains: [svc.cluster.local]\n          allowSubdomains: true\n",
    );
    s
}

/// A fleet of `clusters` clusters sharing `apps` apps with `secrets_per_app` secrets each (the
/// apps of [`big_spec`], written once under `defaults`); every cluster's overlay sets its own
/// replica count.
pub fn big_fleet(clusters: usize, apps: usize, secrets_per_app: usize) -> String {
    let single = big_spec(apps, secrets_per_app);
    let body = single
        .split_once("cluster: scale\n")
        .expect("the single spec names its cluster")
        .1;
    let mut s = String::with_capacity(single.len() * 2 + clusters * 200);
    s.push_str("apiVersion: kubectl-vault/v1alpha1\nkind: VaultFleet\ndefaults:\n");
    for line in body.lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("clusters:\n");
    for c in 0..clusters {
        let _ = write!(
            s,
            "  - name: cluster{c}\n    vault: {{replicas: {}}}\n",
            if c % 2 == 0 { 3 } else { 5 }
        );
    }
    s
}
