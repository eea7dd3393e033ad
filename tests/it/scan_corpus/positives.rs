//! The positive cases: every credential format in the places GitOps repositories leak them
//! (Helm values, manifests, `.env` files, CI workflows, scripts, docs), one secret per case
//! with the line it is on and the rule that should name it.

use super::gen::{self, b64, Rng};
use super::Case;

/// A token in twelve places: (path, content, line of the token).
fn places(env: &str, camel: &str, snake: &str, v: &str) -> Vec<(String, String, u32)> {
    vec![
        (
            "charts/app/values.yaml".into(),
            format!("image:\n  tag: 1.2.3\nconfig:\n  {camel}: {v}\n"),
            4,
        ),
        (
            "config/app.json".into(),
            format!("{{\n  \"name\": \"app\",\n  \"{camel}\": \"{v}\"\n}}\n"),
            3,
        ),
        (".env".into(), format!("APP_ENV=production\n{env}={v}\n"), 2),
        (
            "scripts/deploy.sh".into(),
            format!("#!/bin/sh\nset -eu\nexport {env}=\"{v}\"\n./deploy\n"),
            3,
        ),
        (
            "docs/setup.md".into(),
            format!("# Setup\n\nRun the job with `{env}={v}` in its environment.\n"),
            3,
        ),
        (
            ".github/workflows/ci.yaml".into(),
            format!("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    env:\n      {env}: {v}\n"),
            6,
        ),
        (
            "infra/terraform.tfvars".into(),
            format!("region = \"eu-west-1\"\n{snake} = \"{v}\"\n"),
            2,
        ),
        (
            "tools/settings.py".into(),
            format!("DEBUG = False\n{env} = \"{v}\"\n"),
            2,
        ),
        (
            "cmd/main.go".into(),
            format!("package main\n\nconst {camel} = \"{v}\"\n"),
            3,
        ),
        (
            "images/app/Dockerfile".into(),
            format!("FROM alpine:3.20\nENV {env}={v}\n"),
            2,
        ),
        (
            "apps/shop/configmap.yaml".into(),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: shop\ndata:\n  {env}: \"{v}\"\n"),
            7,
        ),
        ("notes.txt".into(), format!("the new one:\n{v}\n"), 2),
    ]
}

type Maker = fn(&mut Rng, usize) -> String;

/// The token formats, each in every place.
const TOKENS: &[(&str, &str, &str, &str, Maker)] = &[
    (
        "github-token",
        "GITHUB_TOKEN",
        "githubToken",
        "github_token",
        gen::github,
    ),
    (
        "gitlab-token",
        "GITLAB_TOKEN",
        "gitlabToken",
        "gitlab_token",
        gen::gitlab,
    ),
    (
        "slack-token",
        "SLACK_BOT_TOKEN",
        "slackBotToken",
        "slack_bot_token",
        gen::slack_token,
    ),
    (
        "slack-webhook",
        "SLACK_WEBHOOK_URL",
        "slackWebhookUrl",
        "slack_webhook_url",
        gen::slack_webhook,
    ),
    (
        "stripe-key",
        "STRIPE_API_KEY",
        "stripeApiKey",
        "stripe_api_key",
        gen::stripe,
    ),
    ("npm-token", "NPM_TOKEN", "npmToken", "npm_token", gen::npm),
    (
        "pypi-token",
        "PYPI_TOKEN",
        "pypiToken",
        "pypi_token",
        gen::pypi,
    ),
    (
        "gcp-api-key",
        "GOOGLE_API_KEY",
        "googleApiKey",
        "google_api_key",
        gen::gcp_api_key,
    ),
    (
        "vault-token",
        "VAULT_TOKEN",
        "vaultToken",
        "vault_token",
        gen::vault,
    ),
    (
        "aws-access-key",
        "AWS_ACCESS_KEY_ID",
        "awsAccessKeyId",
        "aws_access_key_id",
        gen::aws_id,
    ),
    ("jwt", "AUTH_TOKEN", "authToken", "auth_token", gen::jwt),
];

pub(crate) fn cases(r: &mut Rng) -> Vec<Case> {
    let mut out = Vec::new();
    for (label, env, camel, snake, make) in TOKENS {
        for (i, (path, content, line)) in places(env, camel, snake, "{V}").into_iter().enumerate() {
            let v = make(r, i);
            out.push(Case::new(
                label,
                &path,
                content.replace("{V}", &v),
                &[(line, label)],
            ));
        }
    }
    aws_secret_keys(r, &mut out);
    azure(r, &mut out);
    private_keys(r, &mut out);
    gcp_service_accounts(r, &mut out);
    docker(r, &mut out);
    npmrc(r, &mut out);
    connection_strings(r, &mut out);
    env_files(r, &mut out);
    kubernetes_secrets(r, &mut out);
    sops(r, &mut out);
    high_entropy(r, &mut out);
    commands(r, &mut out);
    hard(r, &mut out);
    out
}

/// Credentials handed to programs: command lines and HTTP headers.
fn commands(r: &mut Rng, out: &mut Vec<Case>) {
    let p = r.password();
    out.push(Case::new(
        "cli-password",
        "scripts/smoke.sh",
        format!(
            "#!/bin/sh
curl -fsS -u admin:{p} https://grafana.acme.io/api/health
"
        ),
        &[(2, "cli-password")],
    ));
    let p = r.generated();
    out.push(Case::new(
        "cli-password",
        ".gitlab-ci.yml",
        format!(
            "release:
  script:
    - docker login --password {p} --username ci registry.acme.io
    - docker push registry.acme.io/app
"
        ),
        &[(3, "cli-password")],
    ));
    let p = r.alnum(24);
    out.push(Case::new(
        "cli-password",
        "Makefile",
        format!(
            "charts:
\thelm repo add acme https://charts.acme.io --username ci --password={p}
"
        ),
        &[(2, "cli-password")],
    ));
    let p = r.generated();
    out.push(Case::new(
        "cli-password",
        "docs/cli.md",
        format!(
            "    argocd login argocd.acme.io --username admin --password '{p}'
"
        ),
        &[(1, "cli-password")],
    ));
    let auth = b64(format!("deploy:{}", r.generated()).as_bytes());
    out.push(Case::new(
        "basic-auth",
        "docs/api.md",
        format!(
            "```http
GET /api/v1/charts HTTP/1.1
Authorization: Basic {auth}
```
"
        ),
        &[(3, "basic-auth")],
    ));
    let auth = b64(format!("ci:{}", r.password()).as_bytes());
    out.push(Case::new(
        "basic-auth",
        "apps/probe/values.yaml",
        format!(
            "probe:
  httpHeaders:
    - name: Authorization
      value: \"Authorization: Basic {auth}\"
"
        ),
        &[(4, "basic-auth")],
    ));
    let p = r.generated();
    out.push(Case::new("env-file", "infra/db.tf", format!("resource \"aws_db_instance\" \"app\" {{\n  engine   = \"postgres\"\n  username = \"app\"\n  password = \"{p}\"\n}}\n"), &[(4, "env-file")]));
    let p = r.password();
    out.push(Case::new("connection-string", "internal/db/open.go", format!("package db\n\nconst dsn = \"host=db.acme.io port=5432 user=app password={p} dbname=app sslmode=require\"\n"), &[(3, "connection-string")]));
}

/// Leaks no rule of this tool recognizes (kept in the corpus so that its recall is not
/// measured on its own strengths only): a framework's secret key in code, a password glued to
/// a flag, an AWS secret key with neither its name nor its id beside it.
fn hard(r: &mut Rng, out: &mut Vec<Case>) {
    out.push(Case::new(
        "unsupported: code assignment",
        "web/settings.py",
        format!("DEBUG = False\nSECRET_KEY = \"{}\"\n", r.generated()),
        &[(2, "unsupported: code assignment")],
    ));
    out.push(Case::new(
        "unsupported: password glued to a flag",
        "db/init.sh",
        format!(
            "#!/bin/sh\nmysql -uroot -p{} app < schema.sql\n",
            r.alnum(16)
        ),
        &[(2, "unsupported: password glued to a flag")],
    ));
    out.push(Case::new(
        "unsupported: AWS secret key alone",
        "notes/keys.txt",
        format!("backup bucket:\n{}\n", gen::aws_secret(r)),
        &[(2, "unsupported: AWS secret key alone")],
    ));
}

fn aws_secret_keys(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "aws-secret-key";
    let (id, s) = (gen::aws_id(r, 0), gen::aws_secret(r));
    out.push(Case::new(L, "aws/credentials", format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {s}\nregion = eu-west-1\n"), &[(2, "aws-access-key"), (3, L)]));
    let (id, s) = (gen::aws_id(r, 1), gen::aws_secret(r));
    out.push(Case::new(L, "apps/backup/values.yaml", format!("backup:\n  s3:\n    bucket: backups\n    accessKeyId: {id}\n    secretAccessKey: {s}\n"), &[(4, "aws-access-key"), (5, L)]));
    let (id, s) = (gen::aws_id(r, 0), gen::aws_secret(r));
    out.push(Case::new(L, "infra/provider.tf", format!("provider \"aws\" {{\n  region     = \"eu-west-1\"\n  access_key = \"{id}\"\n  secret_key = \"{s}\"\n}}\n"), &[(3, "aws-access-key"), (4, L)]));
    let s = gen::aws_secret(r);
    out.push(Case::new(
        L,
        ".env",
        format!("AWS_REGION=eu-west-1\nAWS_SECRET_ACCESS_KEY={s}\n"),
        &[(2, L)],
    ));
    let s = gen::aws_secret(r);
    out.push(Case::new(
        L,
        "ci/build.sh",
        format!("#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY=\"{s}\"\naws s3 sync dist s3://site\n"),
        &[(2, L)],
    ));
    let s = gen::aws_secret(r);
    // In a block scalar: the block's key (line 3) names it as well as its own line.
    out.push(Case::block(L, "apps/velero/values.yaml", format!("credentials:\n  secretContents:\n    cloud: |\n      [default]\n      aws_secret_access_key={s}\n"), 3, 5));
    let (id, s) = (gen::aws_id(r, 0), gen::aws_secret(r));
    out.push(Case::new(
        L,
        "docs/runbook.md",
        format!("Use these:\n\n    {id}\n    {s}\n"),
        &[(3, "aws-access-key"), (4, L)],
    ));
    let s = gen::aws_secret(r);
    out.push(Case::new(
        L,
        "config/s3.json",
        format!("{{\n  \"bucket\": \"logs\",\n  \"secretAccessKey\": \"{s}\"\n}}\n"),
        &[(3, L)],
    ));
    let s = gen::aws_secret(r);
    out.push(Case::new(
        L,
        "apps/loki/values.yaml",
        format!("storage:\n  s3:\n    secret_access_key: {s}\n"),
        &[(3, L)],
    ));
    let (id, s) = (gen::aws_id(r, 1), gen::aws_secret(r));
    out.push(Case::new(L, "tools/upload.py", format!("import boto3\ns3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"{id}\",\n    aws_secret_access_key=\"{s}\",\n)\n"), &[(4, "aws-access-key"), (5, L)]));
}

fn azure(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "azure-storage-key";
    for i in 0..8 {
        let account = format!("st{}", r.of("abcdefghijklmnopqrstuvwxyz0123456789", 10));
        let storage = format!("DefaultEndpointsProtocol=https;AccountName={account};Account{}={}==;EndpointSuffix=core.windows.net", "Key", r.b64(86));
        let bus = format!("Endpoint=sb://ns-{}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccess{}={}=", r.alnum(6).to_lowercase(), "Key", r.b64(43));
        let cs = if i % 3 == 2 { bus } else { storage };
        let (path, content, line) = match i % 4 {
            0 => (
                "apps/func/values.yaml".to_string(),
                format!("azure:\n  storage:\n    connectionString: \"{cs}\"\n"),
                3,
            ),
            1 => (
                "appsettings.json".to_string(),
                format!("{{\n  \"ConnectionStrings\": {{\n    \"Storage\": \"{cs}\"\n  }}\n}}\n"),
                3,
            ),
            2 => (
                ".env".to_string(),
                format!("AZURE_STORAGE_CONNECTION_STRING=\"{cs}\"\n"),
                1,
            ),
            _ => (
                "deploy/local.settings.txt".to_string(),
                format!("storage connection:\n{cs}\n"),
                2,
            ),
        };
        out.push(Case::new(L, &path, content, &[(line, L)]));
    }
}

fn private_keys(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "private-key";
    for (i, kind) in [
        "RSA ", "EC ", "", "OPENSSH ", "DSA ", "PGP ", "RSA ", "", "OPENSSH ", "EC ",
    ]
    .iter()
    .enumerate()
    {
        let lines = |key: &str| key.lines().count() as u32;
        let case = match i % 5 {
            0 => {
                let key = gen::private_key(r, kind, "");
                let n = lines(&key);
                Case::block(L, "certs/server.key", key, 1, n)
            }
            1 => {
                let key = gen::private_key(r, kind, "    ");
                let n = lines(&key);
                Case::block(L, "apps/ingress/tls.yaml", format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tls-material\ndata:\n  tls.key: |\n{key}"), 6, 6 + n)
            }
            2 => {
                let key = gen::private_key(r, kind, "  ");
                let n = lines(&key);
                Case::block(
                    L,
                    "charts/app/values.yaml",
                    format!("sshKnownHosts: github.com\ndeployKey: |\n{key}"),
                    2,
                    2 + n,
                )
            }
            3 => {
                let key = gen::private_key(r, kind, "");
                let n = lines(&key);
                Case::block(L, "keys/id_deploy", key, 1, n)
            }
            _ => Case::new(
                L,
                "config/signing.json",
                format!(
                    "{{\n  \"issuer\": \"ci\",\n  \"key\": \"{}\"\n}}\n",
                    gen::private_key_escaped(r)
                ),
                &[(3, L)],
            ),
        };
        out.push(case);
    }
}

fn gcp_service_accounts(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "gcp-service-account";
    for i in 0..8 {
        let project = format!("acme-{}", r.digits(6));
        let json = |r: &mut Rng, indent: &str| {
            let key = gen::private_key_escaped(r);
            let lines = [
                "{".to_string(),
                "  \"type\": \"service_account\",".to_string(),
                format!("  \"project_id\": \"{project}\","),
                format!("  \"private_key_id\": \"{}\",", r.hex(40)),
                format!("  \"private_key\": \"{key}\","),
                format!("  \"client_email\": \"deployer@{project}.iam.gserviceaccount.com\","),
                format!("  \"client_id\": \"{}\",", r.digits(21)),
                "  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\"".to_string(),
                "}".to_string(),
            ];
            lines
                .iter()
                .map(|l| format!("{indent}{l}\n"))
                .collect::<String>()
        };
        // The key file is the secret: a finding on any of its lines names it.
        let case = match i % 3 {
            0 => Case::block(L, "keys/deployer.json", json(r, ""), 1, 9),
            1 => Case::block(
                L,
                "apps/dns/values.yaml",
                format!(
                    "externalDns:\n  provider: google\n  credentials: |\n{}",
                    json(r, "    ")
                ),
                3,
                12,
            ),
            _ => Case::block(L, "terraform/sa-key.json", json(r, ""), 1, 9),
        };
        out.push(case);
    }
}

fn docker(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "docker-config-auth";
    for i in 0..6 {
        let auth = b64(format!("ci-robot:{}", r.generated()).as_bytes());
        let case = match i % 3 {
            0 => Case::new(L, "ci/docker/config.json", format!("{{\n  \"auths\": {{\n    \"registry.acme.io\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n"), &[(4, L)]),
            1 => Case::new(L, "apps/pull/values.yaml", format!("imagePullConfig:\n  auths:\n    ghcr.io:\n      auth: {auth}\n"), &[(4, L)]),
            _ => Case::new(L, "apps/pull/dockerconfig.yaml", format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pull\ndata:\n  config.json: '{{\"auths\":{{\"quay.io\":{{\"auth\":\"{auth}\"}}}}}}'\n"), &[(6, L)]),
        };
        out.push(case);
    }
}

fn npmrc(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "npm-token";
    out.push(Case::new(
        L,
        ".npmrc",
        format!(
            "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={}\n",
            gen::uuid(r)
        ),
        &[(2, L)],
    ));
    out.push(Case::new(
        L,
        "web/.npmrc",
        format!(
            "@acme:registry=https://npm.acme.io/\n//npm.acme.io/:_authToken={}\n",
            gen::npm(r, 0)
        ),
        &[(2, L)],
    ));
}

fn connection_strings(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "connection-string";
    let templates: &[(&str, &str, u32)] = &[
        ("apps/shop/values.yaml", "database:\n  url: postgres://shop:{P}@db.shop.svc:5432/shop?sslmode=require\n", 2),
        ("config/app.yaml", "cache:\n  url: redis://:{P}@redis-master.cache.svc:6379/0\n", 2),
        (".env", "DATABASE_URL=mysql://app:{P}@mysql.internal:3306/app\n", 1),
        ("apps/queue/values.yaml", "broker: amqp://orders:{P}@rabbitmq.queue.svc:5672/orders\n", 1),
        ("docs/migrate.md", "Run `psql postgresql://admin:{P}@10.0.3.7/app` first.\n", 1),
        ("apps/search/values.yaml", "mongodb:\n  uri: mongodb+srv://search:{P}@cluster0.ab12c.mongodb.net/search\n", 2),
        ("config/application.yaml", "spring:\n  datasource:\n    url: jdbc:postgresql://db:5432/app?user=app&password={P}&ssl=true\n", 3),
        ("appsettings.Production.json", "{\n  \"Db\": \"Server=sql.acme.io;Database=app;User Id=app;Password={P};\"\n}\n", 2),
        ("scripts/backup.sh", "#!/bin/sh\npg_dump \"postgresql://backup:{P}@db.acme.io:5432/app\" > dump.sql\n", 2),
        ("apps/mq/values.yaml", "nats:\n  url: nats://svc:{P}@nats.mq.svc:4222\n", 2),
        ("apps/ftp/values.yaml", "upload: sftp://deploy:{P}@files.acme.io/incoming\n", 1),
        ("config/proxy.conf.txt", "proxy=http://build:{P}@proxy.acme.io:3128\n", 1),
    ];
    for (i, (path, t, line)) in templates.iter().enumerate() {
        let p = match i % 3 {
            // A `/` in the password, as generated passwords and base64 have.
            0 => format!("{}/{}", r.alnum(9), r.alnum(8)),
            1 => r.password(),
            _ => r.alnum(20),
        };
        out.push(Case::new(L, path, t.replace("{P}", &p), &[(*line, L)]));
    }
}

fn env_files(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "env-file";
    let templates: &[(&str, &str, u32)] = &[
        (
            ".env",
            "NODE_ENV=production\nDB_HOST=db\nDB_PASSWORD={P}\n",
            3,
        ),
        (".env.production", "SESSION_SECRET={P}\n", 1),
        (
            "apps/shop/secrets.env",
            "# kustomize secretGenerator envs:\nPOSTGRES_PASSWORD={P}\n",
            2,
        ),
        ("overlays/prod/db.env", "username=app\npassword={P}\n", 2),
        (
            "src/main/resources/application.properties",
            "spring.datasource.url=jdbc:postgresql://db/app\nspring.datasource.password={P}\n",
            2,
        ),
        (".envrc", "export API_SECRET='{P}'\n", 1),
        (
            "config/settings.ini",
            "[database]\nhost = db\npassword = {P}\n",
            3,
        ),
        (
            "config/app.toml",
            "[smtp]\nhost = \"smtp.acme.io\"\npassword = \"{P}\"\n",
            3,
        ),
        ("infra/prod.tfvars", "db_admin_password = \"{P}\"\n", 1),
        (
            "apps/mail/mail.properties",
            "mail.smtp.user=robot\nmail.smtp.password: {P}\n",
            2,
        ),
        ("apps/api/.env", "JWT_SECRET={P}\nPORT=8080\n", 1),
        (
            "apps/api/.env.local",
            "CLIENT_SECRET=\"{P}\" # from the console\n",
            1,
        ),
        ("config/redis.conf", "requirepass_token = {P}\n", 1),
        ("apps/rails/.env", "SECRET_KEY_BASE={P}\n", 1),
    ];
    for (i, (path, t, line)) in templates.iter().enumerate() {
        let p = if i % 2 == 0 {
            r.password()
        } else {
            r.generated()
        };
        out.push(Case::new(L, path, t.replace("{P}", &p), &[(*line, L)]));
    }
}

fn kubernetes_secrets(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "kubernetes-secret";
    for i in 0..14 {
        let p = if i % 2 == 0 {
            r.password()
        } else {
            r.generated()
        };
        let case = match i % 7 {
            0 => Case::new(L, "apps/shop/db-secret.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ntype: Opaque\nstringData:\n  password: {p}\n"), &[(8, L)]),
            1 => Case::new(L, "apps/shop/db-secret.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: {}\n", b64(p.as_bytes())), &[(7, L)]),
            // `kind:` after `data:` (gitleaks misses these).
            2 => Case::new(L, "apps/api/secret.yaml", format!("data:\n  api-key: {}\nmetadata:\n  name: api\napiVersion: v1\nkind: Secret\n", b64(p.as_bytes())), &[(2, L)]),
            3 => Case::new(L, "apps/api/secret.json", format!("{{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Secret\",\n  \"metadata\": {{\"name\": \"api\"}},\n  \"stringData\": {{\n    \"token\": \"{p}\"\n  }}\n}}\n"), &[(6, L)]),
            4 => Case::new(L, "apps/shop/kustomization.yaml", format!("resources:\n  - deployment.yaml\nsecretGenerator:\n  - name: db\n    literals:\n      - DB_PASSWORD={p}\n"), &[(6, L)]),
            5 => Case::new(L, "backup/secrets.yaml", format!("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: smtp\n    namespace: mail\n  data:\n    password: {}\nmetadata:\n  resourceVersion: \"\"\n", b64(p.as_bytes())), &[(10, L)]),
            _ => Case::new(L, "apps/grafana/admin.yaml", format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: grafana-admin\nstringData:\n  admin-user: admin\n  admin-password: \"{p}\"\n"), &[(7, L), (8, L)]),
        };
        out.push(case);
    }
}

fn sops(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "sops-unencrypted";
    let meta = |r: &mut Rng| {
        format!("sops:\n  age:\n    - recipient: age1{}\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        {}\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2026-03-01T10:00:00Z\"\n  mac: ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]\n  version: 3.9.4\n", r.of("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58), r.b64(64), r.b64(44), r.b64(16), r.b64(22))
    };
    for i in 0..6 {
        let enc = format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]",
            r.b64(24),
            r.b64(16),
            r.b64(22)
        );
        let p = r.password();
        let case = match i % 3 {
            0 => Case::new(L, "apps/shop/db.sops.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {enc}\n  api-key: {p}\n{}", meta(r)), &[(7, L)]),
            1 => Case::new(L, "secrets/app.enc.yaml", format!("db:\n  host: {enc}\n  password: {p}\n{}", meta(r)), &[(3, L)]),
            _ => Case::new(L, "clusters/prod/smtp.sops.yaml", format!("smtp:\n  user: {enc}\n  relay: {p}\n{}", meta(r)), &[(3, L)]),
        };
        out.push(case);
    }
}

fn high_entropy(r: &mut Rng, out: &mut Vec<Case>) {
    const L: &str = "high-entropy";
    let keys = [
        "adminPassword",
        "clientSecret",
        "apiKey",
        "rootPassword",
        "webhookSecret",
        "accessToken",
        "encryptionKey_secret",
        "replicationPassword",
        "cookieSecret",
        "auth_token",
        "smtpPassword",
        "licenseKey_token",
    ];
    for (i, k) in keys.iter().enumerate() {
        let v = if i % 2 == 0 {
            r.generated()
        } else {
            r.alnum(32)
        };
        let case = match i % 3 {
            0 => Case::new(L, "apps/db/values.yaml", format!("auth:\n  username: app\n  {k}: {v}\n"), &[(3, L)]),
            1 => Case::new(L, "clusters/prod/apps/oauth2-proxy.yaml", format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: oauth2-proxy\nspec:\n  values:\n    config:\n      {k}: \"{v}\"\n"), &[(8, L)]),
            _ => Case::new(L, "config/settings.json", format!("{{\n  \"service\": {{\n    \"{k}\": \"{v}\"\n  }}\n}}\n"), &[(3, L)]),
        };
        out.push(case);
    }
}
