//! Which server the tree deploys and configures: HashiCorp's Vault or OpenBao
//! (`vault.distribution`). Every difference between the two that the tool knows is decided
//! here, once: the chart, its repository and images, the Helm release (and so the names of the
//! StatefulSet, services and pod labels), the folders inside the pods, the CLI, what goes into
//! the server configuration instead of the API. Elsewhere the code asks the distribution.

use schemars::JsonSchema;
use serde::Deserialize;

/// `vault.distribution`: `vault` (default) or `openbao`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// HashiCorp Vault, with HashiCorp's `vault` chart (BUSL-1.1 server, MPL-2.0 chart).
    #[default]
    Vault,
    /// OpenBao (MPL-2.0), the Linux Foundation's fork of Vault, with its `openbao` chart.
    Openbao,
}

impl Distribution {
    /// The product's name, for messages.
    pub fn product(self) -> &'static str {
        match self {
            Distribution::Vault => "Vault",
            Distribution::Openbao => "OpenBao",
        }
    }

    /// The spec's word for it.
    pub fn keyword(self) -> &'static str {
        match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "openbao",
        }
    }

    /// The Helm chart's name.
    pub fn chart(self) -> &'static str {
        match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "openbao",
        }
    }

    /// The chart's repository, unless the spec names one.
    pub fn chart_repository(self) -> &'static str {
        match self {
            Distribution::Vault => super::defaults::HASHICORP_HELM_REPOSITORY,
            Distribution::Openbao => "https://openbao.github.io/openbao-helm",
        }
    }

    /// The name of the chart repository's HelmRepository object (in `flux-system`).
    pub fn helm_repository_name(self) -> &'static str {
        match self {
            Distribution::Vault => "hashicorp",
            Distribution::Openbao => "openbao",
        }
    }

    /// The Helm release: the chart names the StatefulSet, its pods (`<release>-N`) and the
    /// services (`<release>`, `<release>-active`, `<release>-internal`) after it, as the
    /// release name holds the chart's name.
    pub fn release(self) -> &'static str {
        match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "openbao",
        }
    }

    /// The server image each known chart version runs by default (`server.image` in its
    /// values.yaml, the tag defaulting to the chart's appVersion): the TLS reload sidecar runs
    /// the same image. A newer chart is assumed to run the newest one listed.
    pub(crate) fn chart_server_images(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Distribution::Vault => &[
                ("0.30.0", "hashicorp/vault:1.19.0"),
                ("0.34.1", "hashicorp/vault:2.0.4"),
            ],
            // registry quay.io, repository openbao/openbao, tag: appVersion v2.6.2 without v.
            Distribution::Openbao => &[("0.29.2", "quay.io/openbao/openbao:2.6.2")],
        }
    }

    /// The chart writes the server image as `<registry>/<repository>:<tag>` (OpenBao's), not
    /// `<repository>:<tag>` (Vault's).
    pub(crate) fn image_has_registry(self) -> bool {
        self == Distribution::Openbao
    }

    /// Where the chart puts the server's files in its pods: `<home>/data` (raft),
    /// `<home>/audit` (the audit volume), `<home>/userconfig/<name>/` (extra volumes).
    pub fn home(self) -> &'static str {
        match self {
            Distribution::Vault => "/vault",
            Distribution::Openbao => "/openbao",
        }
    }

    /// The folder a chart `extraVolumes` Secret is mounted at.
    pub fn userconfig(self, secret: &str) -> String {
        format!("{}/userconfig/{secret}", self.home())
    }

    /// The environment variable the server's own CLI (and the chart's probes) read the CA from.
    pub fn ca_env(self) -> &'static str {
        match self {
            Distribution::Vault => "VAULT_CACERT",
            Distribution::Openbao => "BAO_CACERT",
        }
    }

    /// The CLI the generated script runs first (the other is tried next: every command the
    /// script uses exists in both).
    pub fn cli(self) -> &'static str {
        match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "bao",
        }
    }

    /// The CLIs the generated script tries, in order: its own, then the other.
    pub fn clis(self) -> [&'static str; 2] {
        match self {
            Distribution::Vault => ["vault", "bao"],
            Distribution::Openbao => ["bao", "vault"],
        }
    }

    /// The labels of the chart's server pods (the StatefulSet's selector).
    pub fn pod_selector(self) -> String {
        format!(
            "app.kubernetes.io/name={},app.kubernetes.io/instance={},component=server",
            self.chart(),
            self.release()
        )
    }

    /// A label the server's Kubernetes service registration keeps on its own pod:
    /// `<prefix>-sealed`, `-active`, `-initialized` (`vault-…` for Vault, `openbao-…` for
    /// OpenBao).
    pub fn pod_label(self, state: &str) -> String {
        let prefix = match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "openbao",
        };
        format!("{prefix}-{state}")
    }

    /// The annotation prefix the chart's agent injector reads. The OpenBao chart (0.29) runs
    /// HashiCorp's injector (`hashicorp/vault-k8s`), which reads `vault.hashicorp.com/`.
    pub fn injector_annotation_prefix(self) -> &'static str {
        "vault.hashicorp.com"
    }

    /// The Secrets Store CSI provider the chart installs: its name in a SecretProviderClass
    /// (`spec.provider`, the socket `/provider/<name>.sock`) and the parameter that names the
    /// auth mount.
    pub fn csi_provider(self) -> &'static str {
        match self {
            Distribution::Vault => "vault",
            Distribution::Openbao => "openbao",
        }
    }
    pub fn csi_mount_parameter(self) -> &'static str {
        match self {
            Distribution::Vault => "vaultKubernetesMountPath",
            Distribution::Openbao => "openbaoKubernetesMountPath",
        }
    }
    /// The SecretProviderClass parameter naming the Vault namespace (`vaultNamespace`); the
    /// OpenBao provider reads `openbaoNamespace` (openbao-csi-provider internal/config).
    pub fn csi_namespace_parameter(self) -> &'static str {
        match self {
            Distribution::Vault => "vaultNamespace",
            Distribution::Openbao => "openbaoNamespace",
        }
    }

    /// Audit devices are declared in the server configuration (`audit` stanzas, OpenBao 2.2+),
    /// not enabled through the API (which OpenBao refuses).
    pub fn audit_in_config(self) -> bool {
        self == Distribution::Openbao
    }

    /// The server initialises itself from `initialize` stanzas (OpenBao 2.4+).
    pub fn self_init(self) -> bool {
        self == Distribution::Openbao
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_chart_s_release() {
        let d = Distribution::Openbao;
        assert_eq!(
            d.pod_selector(),
            "app.kubernetes.io/name=openbao,app.kubernetes.io/instance=openbao,component=server"
        );
        assert_eq!(d.pod_label("active"), "openbao-active");
        assert_eq!(d.userconfig("tls"), "/openbao/userconfig/tls");
        let v = Distribution::Vault;
        assert_eq!(
            v.pod_selector(),
            "app.kubernetes.io/name=vault,app.kubernetes.io/instance=vault,component=server"
        );
        assert_eq!(v.pod_label("sealed"), "vault-sealed");
        assert_eq!(v.userconfig("tls"), "/vault/userconfig/tls");
    }
}
