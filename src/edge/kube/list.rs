//! Lists of whole kinds (one request per kind and page, at most [`MAX_PAGES`] pages and
//! [`MAX_OBJECTS`] objects), a Secret by name, and how a list page is read.

use super::request::{status_text, ListError};
use super::{Cluster, Kind, Scope, MAX_OBJECTS, MAX_PAGES, PAGE_SIZE};
use crate::core::verify::{ListQuery, Observed};
use crate::error::Error;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;

impl Cluster {
    /// Reads what the core asks for ([`crate::core::verify::observe`]): each round's lists
    /// together, the rounds one after the other. A failed list fails the run, but for a
    /// diagnosis, which reads as empty.
    pub(crate) async fn observe(&self, rounds: &[Vec<ListQuery>]) -> Result<Observed, Error> {
        let mut observed = Observed::default();
        for round in rounds {
            let lists = futures::future::try_join_all(round.iter().map(|q| async move {
                let listed = self
                    .list(q.kind, &q.scope, q.labels.as_deref(), q.fields.as_deref())
                    .await;
                match listed {
                    Err(_) if q.diagnosis => Ok((q.list, None)),
                    other => other.map(|objects| (q.list, Some(objects))),
                }
            }))
            .await?;
            for (list, objects) in lists {
                match objects {
                    Some(objects) => observed.insert(list, objects),
                    // Read as empty, and said so: a check on it can tell "none" from "unknown".
                    None => observed.unlisted.push(list),
                }
            }
        }
        Ok(observed)
    }

    /// The `kinds` the API server does not serve (their CRDs are not installed, or not at the
    /// version the tool writes), asked of discovery: one request per API group and version.
    pub(crate) async fn not_served(&self, kinds: &[Kind]) -> Result<Vec<Kind>, Error> {
        let mut missing = vec![];
        let mut groups: Vec<(String, String)> = kinds
            .iter()
            .map(|k| {
                let r = k.resource();
                (r.group, r.version)
            })
            .collect();
        groups.sort();
        groups.dedup();
        for (group, version) in groups {
            let url = format!("/apis/{group}/{version}");
            let answer = self
                .with_retries(|| {
                    let client = self.client.clone();
                    let req = http::Request::get(url.as_str()).body(Vec::new());
                    async move {
                        let req = req.map_err(kube::Error::HttpError)?;
                        client.send(req.map(kube::client::Body::from)).await
                    }
                })
                .await;
            let served: Vec<String> = match answer {
                Err(ListError::NotServed(_)) => vec![],
                Err(e) => return Err(e.into_error(kinds[0], None, &self.server)),
                Ok(body) => serde_json::from_slice::<ResourceList>(&body)
                    .map_err(|e| {
                        Error::environment(format!(
                            "reading the API server's discovery of {group}/{version}: not a resource list: {e}"
                        ))
                    })?
                    .resources
                    .into_iter()
                    .map(|r| r.name)
                    .collect(),
            };
            for k in kinds {
                let r = k.resource();
                if r.group == group && r.version == version && !served.contains(&r.plural) {
                    missing.push(*k);
                }
            }
        }
        Ok(missing)
    }

    /// Every object of `kind` in `scope` matching the selectors, as JSON.
    pub(crate) async fn list(
        &self,
        kind: Kind,
        scope: &Scope,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        match scope {
            Scope::Cluster { fallback } => match self.list_in(kind, None, labels, fields).await {
                Err(ListError::Forbidden(_)) if !fallback.is_empty() => {
                    self.list_each(kind, fallback, labels, fields, true).await
                }
                other => other.map_err(|e| e.into_error(kind, None, &self.server)),
            },
            Scope::Namespaces(nss) => self.list_each(kind, nss, labels, fields, false).await,
        }
    }

    /// One list per namespace, concatenated, at most [`MAX_OBJECTS`] in all (a limit reported
    /// at cluster scope when these namespaces stand in for a cluster-wide list).
    async fn list_each(
        &self,
        kind: Kind,
        namespaces: &[String],
        labels: Option<&str>,
        fields: Option<&str>,
        for_cluster: bool,
    ) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        for ns in namespaces {
            all.extend(
                self.list_in(kind, Some(ns), labels, fields)
                    .await
                    .map_err(|e| e.into_error(kind, Some(ns), &self.server))?,
            );
            if all.len() > MAX_OBJECTS {
                let at = (!for_cluster).then_some(ns.as_str());
                return Err(
                    ListError::TooMany(format!("more than {MAX_OBJECTS} objects")).into_error(
                        kind,
                        at,
                        &self.server,
                    ),
                );
            }
        }
        Ok(all)
    }

    async fn list_in(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>, ListError> {
        let ar = kind.resource();
        // Raw JSON lists: no typed round trip, one allocation per object.
        let url = <DynamicObject as kube::Resource>::url_path(&ar, namespace);
        let request = kube::core::Request::new(url);
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(l) = labels {
            params = params.labels(l);
        }
        if let Some(f) = fields {
            params = params.fields(f);
        }
        let mut out = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ListError::TooMany(format!(
                    "more than {MAX_PAGES} pages of up to {PAGE_SIZE} objects (the server keeps answering with a `continue` token)"
                )));
            }
            let body = self
                .with_retries(|| {
                    let req = request.list(&params);
                    let client = self.client.clone();
                    async move {
                        let req = req.map_err(kube::Error::BuildRequest)?;
                        client.send(req.map(kube::client::Body::from)).await
                    }
                })
                .await?;
            let page = parse_page(&body)?;
            for Item(mut v) in page.items {
                // List items of built-in kinds carry no apiVersion/kind: add them back.
                v["apiVersion"] = Value::String(ar.api_version.clone());
                v["kind"] = Value::String(ar.kind.clone());
                out.push(v);
            }
            if out.len() > MAX_OBJECTS {
                return Err(ListError::TooMany(format!(
                    "more than {MAX_OBJECTS} objects"
                )));
            }
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(out),
            }
        }
    }

    /// The Vault StatefulSet `name` in `namespace` as JSON, `None` when it does not exist
    /// (`operator` chooses Vault's pods by it: their controller).
    pub(crate) async fn get_statefulset(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        let resource = kube::core::ApiResource {
            group: "apps".into(),
            version: "v1".into(),
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            plural: "statefulsets".into(),
        };
        self.get_object(
            &resource,
            Kind::Pod,
            namespace,
            name,
            "operator needs `get` on statefulsets (apps) in the Vault namespace, to tell Vault's own pods from others",
        )
        .await
    }

    /// One Secret as JSON, `None` when it does not exist. Its values stay in memory: the
    /// caller (`import`) sends them to Vault and never prints them. `namespace` and `name`
    /// must be valid Kubernetes names (the caller checks).
    pub(crate) async fn get_secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        // Secrets are always served: a 404 is no such Secret.
        self.get_object(
            &Kind::Secret.resource(),
            Kind::Secret,
            namespace,
            name,
            "import needs `get` on secrets in that namespace",
        )
        .await
    }

    /// One object as JSON (`None`: a 404), with the list machinery's retries and deadlines; a
    /// refusal names the missing `get` with `forbidden_hint`, other failures are reported as for
    /// `kind`.
    async fn get_object(
        &self,
        resource: &kube::core::ApiResource,
        kind: Kind,
        namespace: &str,
        name: &str,
        forbidden_hint: &str,
    ) -> Result<Option<Value>, Error> {
        let url = <DynamicObject as kube::Resource>::url_path(resource, Some(namespace));
        let request = kube::core::Request::new(url);
        let body = self
            .with_retries(|| {
                let client = self.client.clone();
                let req = request.get(name, &kube::api::GetParams::default());
                async move {
                    let req = req.map_err(kube::Error::BuildRequest)?;
                    client.send(req.map(kube::client::Body::from)).await
                }
            })
            .await;
        match body {
            Ok(body) => serde_json::from_slice(&body).map(Some).map_err(|e| {
                Error::environment(format!(
                    "reading {} {namespace}/{name}: the API server's answer is not JSON: {e}",
                    resource.kind
                ))
            }),
            Err(ListError::NotServed(_)) => Ok(None),
            Err(ListError::Forbidden(m)) => Err(Error::environment(format!(
                "forbidden: cannot get {} in namespace {namespace} ({m})",
                resource.plural
            ))
            .with_hint(forbidden_hint)),
            Err(e) => Err(e.into_error(kind, Some(namespace), &self.server)),
        }
    }
}

/// Parses a list page. A `200 OK` whose body is a `Status` (a failure relayed by a proxy or
/// an aggregated API server) is an error, never an empty list.
fn parse_page(body: &[u8]) -> Result<ListPage, ListError> {
    let head: Result<Head, _> = serde_json::from_slice(body);
    if let Ok(h) = &head {
        if h.kind.as_deref() == Some("Status") {
            return Err(ListError::StatusBody(status_text(
                h.code.unwrap_or(200) as u16,
                body,
            )));
        }
    }
    serde_json::from_slice(body).map_err(|e| {
        ListError::Failed(format!(
            "the API server's answer is not a list: {e} (starts with {:?})",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        ))
    })
}

/// A discovery answer (`/apis/<group>/<version>`): the resources it serves.
#[derive(serde::Deserialize)]
struct ResourceList {
    #[serde(default)]
    resources: Vec<ServedResource>,
}

#[derive(serde::Deserialize)]
struct ServedResource {
    name: String,
}

/// The fields of an answer that tell a list from a `Status`.
#[derive(serde::Deserialize)]
struct Head {
    kind: Option<String>,
    code: Option<u64>,
}

/// One page of a list response.
#[derive(serde::Deserialize)]
struct ListPage {
    #[serde(default)]
    metadata: ListPageMeta,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(serde::Deserialize, Default)]
struct ListPageMeta {
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

/// A listed object as JSON, without `metadata.managedFields`: field ownership is never
/// checked and is often most of an object's size, so it is skipped while parsing rather than
/// built and dropped.
struct Item(Value);

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SkipKeyVisitor {
            skip: None,
            nested: Some(("metadata", "managedFields")),
        })
        .map(Item)
    }
}

/// Builds a JSON object, skipping the key `skip` if given; with `nested = (key, inner)`, the value of
/// `key` is built the same way without its `inner` key.
struct SkipKeyVisitor {
    skip: Option<&'static str>,
    nested: Option<(&'static str, &'static str)>,
}

impl<'de> serde::de::Visitor<'de> for SkipKeyVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.skip == Some(key.as_str()) {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = match self.nested {
                Some((outer, inner)) if key == outer => map.next_value_seed(SkipKeySeed(inner))?,
                _ => map.next_value::<Value>()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

struct SkipKeySeed(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for SkipKeySeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(SkipKeyVisitor {
            skip: Some(self.0),
            nested: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_drop_managed_fields_and_keep_everything_else() {
        let page: ListPage = serde_json::from_str(
            r#"{"kind":"SecretList","metadata":{"resourceVersion":"7","continue":"abc"},
               "items":[{"metadata":{"name":"db","managedFields":[{"manager":"x"}],"labels":{"a":"b"}},
                         "data":{"password":"cGFzcw=="},"type":"Opaque"}]}"#,
        )
        .unwrap();
        assert_eq!(page.metadata.continue_token.as_deref(), Some("abc"));
        let Item(item) = &page.items[0];
        assert_eq!(
            item,
            &serde_json::json!({"metadata":{"name":"db","labels":{"a":"b"}},
                                "data":{"password":"cGFzcw=="},"type":"Opaque"})
        );
    }
}
