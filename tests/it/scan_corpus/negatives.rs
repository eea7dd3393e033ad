//! The negative cases: what GitOps repositories are full of and a scanner must leave alone —
//! operator manifests that only name secrets, encrypted values, references and templates,
//! placeholders, hashes and digests, ids, public keys and certificates, documented examples.

use super::gen::{self, b64, b64url, Rng};
use super::Case;

pub(crate) fn cases(r: &mut Rng) -> Vec<Case> {
    let mut out = Vec::new();
    for i in 0..4 {
        operators(r, i, &mut out);
        encrypted(r, i, &mut out);
        references(r, i, &mut out);
        placeholders(r, i, &mut out);
        digests(r, i, &mut out);
        ids(r, i, &mut out);
        public_material(r, i, &mut out);
        examples(r, i, &mut out);
        urls(r, i, &mut out);
        config(r, i, &mut out);
    }
    out
}

fn neg(what: &str, path: &str, content: String) -> Case {
    Case::new(&format!("negative: {what}"), path, content, &[])
}

/// VSO, ESO, cert-manager and Flux manifests: names, paths and references, no values.
fn operators(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    let ns = ["shop", "payments", "search", "mail"][i];
    out.push(neg("VSO VaultStaticSecret", &format!("apps/{ns}/vaultstaticsecret.yaml"), format!("apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata:\n  name: db\n  namespace: {ns}\nspec:\n  vaultAuthRef: {ns}\n  mount: kvv2\n  type: kv-v2\n  path: {ns}/db\n  refreshAfter: 60s\n  destination:\n    name: db\n    create: true\n  rolloutRestartTargets:\n    - kind: Deployment\n      name: {ns}\n")));
    out.push(neg("VSO VaultDynamicSecret", &format!("apps/{ns}/vaultdynamicsecret.yaml"), format!("apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultDynamicSecret\nmetadata:\n  name: db-creds\n  namespace: {ns}\nspec:\n  vaultAuthRef: {ns}\n  mount: database\n  path: creds/{ns}-rw\n  renewalPercent: 67\n  destination:\n    name: db-creds\n    create: true\n")));
    out.push(neg("VSO VaultAuth and VaultConnection", &format!("infra/vso/{ns}-auth.yaml"), format!("apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultConnection\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  address: https://vault.vault.svc:8200\n  caCertSecretRef: vault-ca\n---\napiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultAuth\nmetadata:\n  name: {ns}\n  namespace: {ns}\nspec:\n  method: kubernetes\n  mount: kubernetes\n  kubernetes:\n    role: {ns}\n    serviceAccount: {ns}\n    tokenExpirationSeconds: 600\n    audiences: [vault]\n")));
    out.push(neg("ESO ExternalSecret", &format!("apps/{ns}/externalsecret.yaml"), format!("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: api\n  namespace: {ns}\nspec:\n  refreshInterval: 1h\n  secretStoreRef:\n    name: vault-backend\n    kind: ClusterSecretStore\n  target:\n    name: api\n  data:\n    - secretKey: password\n      remoteRef:\n        key: {ns}/api\n        property: password\n    - secretKey: apiToken\n      remoteRef:\n        key: {ns}/api\n        property: token\n")));
    out.push(neg("ESO ClusterSecretStore", "infra/eso/store.yaml", "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: vault-backend\nspec:\n  provider:\n    vault:\n      server: https://vault.vault.svc:8200\n      path: secret\n      version: v2\n      auth:\n        tokenSecretRef:\n          name: vault-token\n          key: token\n          namespace: external-secrets\n".to_string()));
    out.push(neg("Deployment with secretKeyRef", &format!("apps/{ns}/deployment.yaml"), format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {ns}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/{ns}:1.{i}.0@sha256:{}\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db\n                  key: password\n            - name: API_TOKEN_FILE\n              value: /var/run/secrets/api/token\n          envFrom:\n            - secretRef:\n                name: api\n", r.hex(64))));
    out.push(neg("cert-manager Certificate and Issuer", &format!("infra/certs/{ns}.yaml"), format!("apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    server: https://acme-v02.api.letsencrypt.org/directory\n    privateKeySecretRef:\n      name: letsencrypt-account-key\n    solvers:\n      - dns01:\n          route53:\n            region: eu-west-1\n            accessKeyIDSecretRef:\n              name: route53\n              key: access-key-id\n            secretAccessKeySecretRef:\n              name: route53\n              key: secret-access-key\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: {ns}-tls\nspec:\n  secretName: {ns}-tls\n  privateKey:\n    algorithm: ECDSA\n    rotationPolicy: Always\n  dnsNames: [{ns}.acme.io]\n")));
    out.push(neg("Flux Kustomization with SOPS decryption", &format!("clusters/prod/{ns}.yaml"), format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {ns}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/{ns}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-vars\n")));
}

/// Encrypted values: SOPS, Sealed Secrets, an encrypted private key, an age-encrypted file.
fn encrypted(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    let enc = |r: &mut Rng| {
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]",
            r.b64(32),
            r.b64(16),
            r.b64(22)
        )
    };
    out.push(neg("SOPS-encrypted Secret", &format!("apps/app{i}/db.sops.yaml"), format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {}\n  username: {}\nsops:\n  age:\n    - recipient: age1{}\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        {}\n        {}\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2026-03-01T10:00:00Z\"\n  mac: {}\n  unencrypted_suffix: _unencrypted\n  version: 3.9.4\n", enc(r), enc(r), r.of("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58), r.b64(64), r.b64(44), enc(r))));
    out.push(neg("SOPS-encrypted values file", &format!("apps/app{i}/values.enc.yaml"), format!("auth:\n  adminPassword: {}\n  clientSecret: {}\n  replicas_unencrypted: 3\nsops:\n  pgp:\n    - fp: {}\n      created_at: \"2026-03-01T10:00:00Z\"\n  mac: {}\n  version: 3.9.4\n", enc(r), enc(r), r.hex(40).to_uppercase(), enc(r))));
    out.push(neg("SealedSecret", &format!("apps/app{i}/sealedsecret.yaml"), format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api\n  namespace: app{i}\nspec:\n  encryptedData:\n    password: AgB{}\n    apiToken: AgC{}\n  template:\n    metadata:\n      name: api\n", r.b64(340), r.b64(340))));
    out.push(neg(
        "encrypted private key",
        &format!("certs/client{i}.key"),
        format!(
            "-----BEGIN ENCRYPTED PRIVATE {}-----\n{}\n{}\n-----END ENCRYPTED PRIVATE {}-----\n",
            "KEY",
            r.b64(64),
            r.b64(64),
            "KEY"
        ),
    ));
}

/// References and templates instead of values.
fn references(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    let _ = r;
    out.push(neg("Helm template", &format!("charts/app{i}/templates/secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include \"app.fullname\" . }}\ntype: Opaque\ndata:\n  password: {{ .Values.auth.password | b64enc | quote }}\n  api-key: {{ required \"apiKey\" .Values.apiKey | b64enc }}\nstringData:\n  url: \"postgres://{{ .Values.db.user }}:{{ .Values.db.password }}@{{ .Values.db.host }}/app\"\n".to_string()));
    out.push(neg("Flux postBuild substitution", &format!("apps/app{i}/config.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  DB_PASSWORD: ${DB_PASSWORD}\n  API_TOKEN: \"${API_TOKEN:=}\"\n  DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app\n  REDIS_URL: redis://:${REDIS_PASSWORD}@redis:6379/0\n".to_string()));
    out.push(neg("env with references", &format!("deploy/app{i}/.env"), "DB_PASSWORD=${DB_PASSWORD}\nAPI_TOKEN=$(cat /run/secrets/api-token)\nDB_PASSWORD_FILE=/run/secrets/db-password\nSECRET_NAME=api\nTOKEN_TTL=3600\nGITHUB_TOKEN=\nPASSWORD_MIN_LENGTH=12\n".to_string()));
    out.push(neg("CI workflow with secrets context", &format!(".github/workflows/release{i}.yaml"), "on:\n  push:\n    tags: ['v*']\njobs:\n  release:\n    runs-on: ubuntu-latest\n    env:\n      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n      SLACK_WEBHOOK_URL: ${{ secrets.SLACK_WEBHOOK_URL }}\n    steps:\n      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8\n      - run: echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc\n".to_string()));
    out.push(neg("Go code reading the environment", &format!("internal/config/config{i}.go"), "package config\n\nfunc Load() Config {\n\treturn Config{\n\t\tPassword: os.Getenv(\"DB_PASSWORD\"),\n\t\tToken:    os.Getenv(\"GITHUB_TOKEN\"),\n\t\tDSN:      fmt.Sprintf(\"postgres://%s:%s@%s/app\", user, password, host),\n\t}\n}\n".to_string()));
    out.push(neg("Secret names under secret keys", &format!("charts/db{i}/values.yaml"), "auth:\n  existingSecret: app-credentials\n  caCertSecret: unsealer-ca\ntls:\n  tlsSecret: vault-server-tls\n  clientSecret: oauth-client\n".to_string()));
    out.push(neg("Helm values pointing at Secrets", &format!("charts/app{i}/values.yaml"), "auth:\n  existingSecret: app-auth\n  secretKeys:\n    adminPasswordKey: admin-password\n  passwordFrom: env:ADMIN_PASSWORD\n  tokenPath: /var/run/secrets/token\nserviceAccount:\n  automountServiceAccountToken: false\n".to_string()));
}

/// Values written to be replaced.
fn placeholders(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    let _ = r;
    out.push(neg("placeholder values", &format!("charts/app{i}/values.yaml"), "auth:\n  adminPassword: changeme\n  rootPassword: \"<password>\"\n  apiKey: your-api-key-here\n  clientSecret: REPLACE_ME\n  token: xxxxxxxxxxxxxxxxxxxxxxxx\n  webhookSecret: \"********\"\n  password: \"\"\n".to_string()));
    out.push(neg(".env.example", &format!("app{i}/.env.example"), "DB_PASSWORD=changeme\nAPI_KEY=your_api_key\nSECRET_KEY_BASE=replace-me-with-a-long-random-string\nGITHUB_TOKEN=ghp_YOUR_TOKEN_HERE\n".to_string()));
    out.push(neg("placeholders in a .env", &format!("app{i}/.env"), "DB_PASSWORD=<password>\nAPI_SECRET=changeme\nSESSION_SECRET=example-secret\nSMTP_PASSWORD=TODO\n".to_string()));
    out.push(neg("documented token placeholders", &format!("docs/tokens{i}.md"), format!("Create a token (it looks like `{}`) and export it:\n\n    export GITHUB_TOKEN={}\n    export SLACK_WEBHOOK_URL=https://hooks.{}.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n    export GITLAB_TOKEN={}\n", format_args!("gh{}_{}", "p", "x".repeat(36)), format_args!("gh{}_{}", "p", "<your-token>"), "slack", format_args!("gl{}-{}", "pat", "x".repeat(20)))));
    out.push(neg("Secret with empty values", &format!("apps/app{i}/empty-secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: filled-by-vso\ndata: {}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: later\nstringData:\n  password: \"\"\n  token: ~\n".to_string()));
    out.push(neg("connection string placeholders", &format!("docs/db{i}.md"), "Connect with `postgres://USER:PASSWORD@HOST:5432/DB` or\n`mysql://user:password@localhost/db` or `redis://:<password>@redis:6379`.\n".to_string()));
}

/// Hashes, digests and checksums: random, but public.
fn digests(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    out.push(neg("image digests", &format!("apps/app{i}/kustomization.yaml"), format!("images:\n  - name: ghcr.io/acme/app\n    newTag: 1.4.{i}\n    digest: sha256:{}\n  - name: nginx\n    digest: sha256:{}\n", r.hex(64), r.hex(64))));
    out.push(neg("Flux status revisions", &format!("clusters/prod/status{i}.yaml"), format!("status:\n  lastAppliedRevision: main@sha1:{}\n  lastAttemptedRevision: main@sha1:{}\n  observedGeneration: 4\n  artifact:\n    digest: sha256:{}\n    revision: 6.1.{i}@sha256:{}\n", r.hex(40), r.hex(40), r.hex(64), r.hex(64))));
    out.push(neg("Helm checksum annotations", &format!("rendered/app{i}.yaml"), format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    metadata:\n      annotations:\n        checksum/config: {}\n        checksum/secret: {}\n", r.hex(64), r.hex(64))));
    out.push(neg("package-lock integrity", &format!("web{i}/package-lock.json"), format!("{{\n  \"packages\": {{\n    \"node_modules/left-pad\": {{\n      \"version\": \"1.3.0\",\n      \"resolved\": \"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\",\n      \"integrity\": \"sha512-{}==\"\n    }}\n  }}\n}}\n", r.b64(86))));
    out.push(neg(
        "go.sum",
        &format!("tools{i}/go.sum"),
        format!(
            "github.com/acme/lib v1.{i}.0 h1:{}=\ngithub.com/acme/lib v1.{i}.0/go.mod h1:{}=\n",
            r.b64(43),
            r.b64(43)
        ),
    ));
    out.push(neg(
        "git commit ids",
        &format!("docs/changelog{i}.md"),
        format!(
            "- fix the probe ({})\n- bump chart ({})\n- Signed-off-by: Dev <dev@acme.io>\n",
            r.hex(40),
            r.hex(40)
        ),
    ));
    out.push(neg(
        "checksums file",
        &format!("dist{i}/SHA256SUMS"),
        format!(
            "{}  kubectl-vault-linux-amd64.tar.gz\n{}  kubectl-vault-darwin-arm64.tar.gz\n",
            r.hex(64),
            r.hex(64)
        ),
    ));
    out.push(neg("password hash", &format!("apps/auth{i}/values.yaml"), format!("users:\n  - name: admin\n    password: $2y$10${}\n  - name: ops\n    passwordHash: {}\n", r.of("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 53), r.hex(64))));
}

/// Ids: UUIDs, account and tenant ids, resource versions.
fn ids(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    out.push(neg("object uids", &format!("backup/objects{i}.yaml"), format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  uid: {}\n  resourceVersion: \"{}\"\n  ownerReferences:\n    - uid: {}\n      kind: Deployment\n      name: app\n", gen::uuid(r), r.digits(8), gen::uuid(r))));
    out.push(neg("cloud ids", &format!("infra/azure{i}.yaml"), format!("azure:\n  tenantId: {}\n  subscriptionId: {}\n  clientId: {}\n  keyVaultName: kv-prod-{i}\nworkloadIdentity:\n  audience: api://AzureADTokenExchange\n", gen::uuid(r), gen::uuid(r), gen::uuid(r))));
    out.push(neg("AWS ARNs and account ids", &format!("infra/aws{i}.yaml"), format!("serviceAccount:\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{}:role/external-dns\nkmsKeyId: arn:aws:kms:eu-west-1:{}:key/{}\n", r.digits(12), r.digits(12), gen::uuid(r))));
    out.push(neg("Grafana dashboard", &format!("dashboards/app{i}.json"), format!("{{\n  \"uid\": \"{}\",\n  \"title\": \"App\",\n  \"panels\": [{{\"datasource\": {{\"type\": \"prometheus\", \"uid\": \"{}\"}}}}],\n  \"version\": 7\n}}\n", r.alnum(14), r.alnum(9))));
}

/// Public keys, certificates, known-hosts entries, age and PGP public material.
fn public_material(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    let mut cert = String::from("-----BEGIN CERTIFICATE-----\n");
    for _ in 0..10 {
        cert.push_str(&r.b64(64));
        cert.push('\n');
    }
    cert.push_str("-----END CERTIFICATE-----\n");
    out.push(neg(
        "certificate",
        &format!("certs/ca{i}.crt"),
        cert.clone(),
    ));
    out.push(neg(
        "CA bundle in a ConfigMap",
        &format!("apps/app{i}/ca.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: |\n{}",
            cert.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        ),
    ));
    out.push(neg("webhook caBundle", &format!("infra/webhook{i}.yaml"), format!("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: policy\nwebhooks:\n  - name: policy.acme.io\n    clientConfig:\n      caBundle: {}\n", b64(cert.as_bytes()))));
    out.push(neg("public keys", &format!("keys/deploy{i}.pub"), format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} deploy@ci\n-----BEGIN PUBLIC {}-----\n{}\n{}\n-----END PUBLIC {}-----\n", r.b64(43), "KEY", r.b64(64), r.b64(64), "KEY")));
    out.push(neg("known_hosts and age recipients", &format!("clusters/prod/keys{i}.yaml"), format!("knownHosts: |\n  github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{}\nsops:\n  recipients:\n    - age1{}\n", r.b64(43), r.of("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58))));
}

/// Documented examples: AWS's example keys, jwt.io's token, unsigned JWTs, Azurite's key.
fn examples(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    out.push(neg(
        "AWS documented example keys",
        &format!("docs/aws{i}.md"),
        format!(
            "```ini\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n```\n",
            ["AKIA", "IOSFODNN7EXAMPLE"].concat(),
            ["wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"].concat()
        ),
    ));
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(br#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#);
    out.push(neg(
        "jwt.io sample token",
        &format!("docs/auth{i}.md"),
        format!(
            "A token looks like this:\n\n    {header}.{payload}.{}\n",
            ["SflKxwRJSMeKKF2QT4fwpMeJf36P", "Ok6yJV_adQssw5c"].concat()
        ),
    ));
    let none = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = b64url(format!(r#"{{"sub":"{}","role":"viewer"}}"#, r.alnum(8)).as_bytes());
    out.push(neg(
        "unsigned JWT",
        &format!("tests/fixtures/token{i}.txt"),
        format!("{none}.{claims}.\n"),
    ));
    out.push(neg("Azurite development connection string", &format!("docker-compose{i}.yml"), format!("services:\n  app:\n    environment:\n      STORAGE: \"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;Account{}={};BlobEndpoint=http://azurite:10000/devstoreaccount1;\"\n", "Key", ["Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr", "/KBHBeksoGMGw=="].concat())));
}

/// URLs that hold no password.
fn urls(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    out.push(neg("URLs without a password", &format!("apps/app{i}/sources.yaml"), format!("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\nspec:\n  url: ssh://git@github.com/acme/app{i}.git\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\nspec:\n  type: oci\n  url: oci://ghcr.io/acme/charts\n---\nimage: registry.acme.io:5000/team/app@sha256:{}\nproxy: http://proxy.acme.io:3128/\napi: https://api.acme.io:8443/v1/users/ops@acme.io\nclone: https://oauth2@gitlab.acme.io/group/app.git\n", r.hex(64))));
    out.push(neg("mailto and user@host", &format!("docs/contact{i}.md"), "Mail ops@acme.io or ssh deploy@bastion.acme.io:22, see https://docs.acme.io/en/latest/#section\n".to_string()));
}

/// Configuration with credential-like words that holds no credential.
fn config(r: &mut Rng, i: usize, out: &mut Vec<Case>) {
    out.push(neg("password policy and token settings", &format!("apps/keycloak{i}/realm.yaml"), format!("realm: acme\npasswordPolicy: \"length(12) and digits(1)\"\naccessTokenLifespan: 300\ntokenExpiry: 1h\nrefreshTokenMaxReuse: 0\nsecretName: keycloak-{i}\nclientAuthenticatorType: client-secret\nbruteForceProtected: true\nrevision: {}\n", r.hex(12))));
    out.push(neg("RBAC on secrets", &format!("infra/rbac{i}.yaml"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: secret-reader\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets, serviceaccounts/token]\n    verbs: [get, list, watch]\n".to_string()));
    out.push(neg("Vault policy and config", &format!("vault/policies/app{i}.hcl"), format!("path \"kvv2/data/app{i}/*\" {{\n  capabilities = [\"read\"]\n}}\npath \"auth/token/lookup-self\" {{\n  capabilities = [\"read\"]\n}}\n")));
    out.push(neg("properties without secrets", &format!("apps/java{i}/application.properties"), format!("server.port=8080\nspring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.username=app\nspring.datasource.password=${{DB_PASSWORD}}\nmanagement.endpoints.web.exposure.include=health\nbuild.revision={}\n", r.hex(40))));
    out.push(neg("a user and a group on a command line", &format!("scripts/build{i}.sh"), "#!/bin/sh\ndocker run --rm -u 1000:1000 -v \"$PWD:/src\" builder make\ndocker exec -u www-data:www-data web php artisan migrate\nsort -u names.txt\n".to_string()));
    out.push(neg("Terraform references", &format!("infra/db{i}.tf"), "resource \"aws_db_instance\" \"app\" {\n  username = var.db_user\n  password = var.db_password\n}\nresource \"kubernetes_secret\" \"db\" {\n  data = {\n    password = random_password.db.result\n    token    = file(\"${path.module}/token\")\n  }\n}\n".to_string()));
    out.push(neg("kustomize configMapGenerator", &format!("apps/app{i}/kustomization.yaml"), "resources:\n  - deployment.yaml\nconfigMapGenerator:\n  - name: settings\n    literals:\n      - LOG_LEVEL=debug\n      - TOKEN_AUDIENCE=vault\nsecretGenerator:\n  - name: db\n    envs:\n      - db.env\n    options:\n      disableNameSuffixHash: true\n".to_string()));
}
