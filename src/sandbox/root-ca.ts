// The cluster CA certificate the root-ca-cert-publisher puts in every namespace's
// kube-root-ca.crt ConfigMap. The sandbox serves plain HTTP, so nothing is
// signed with it: it is there because clients and in-cluster tools read it.
// A self-signed CN=kubernetes CA made for the sandbox (its key was discarded).
export const ROOT_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIDGzCCAgOgAwIBAgIUTRAYAmbzlir+CyDzrWO5Sg1seTQwDQYJKoZIhvcNAQEL
BQAwFTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjEyMDUxMzUyNTZaFw0zNjEy
MDIxMzUyNTZaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQCo7Aa9S84Hzh4oIxb3SkChQuRQBSCuCmxYSKMDsR3z
jiB07Gcxkeawdodcj6vss4+yDZtQ0N+Xs93LPTl4pv46tbw4umEKPCPXb6qD9A7M
6a3dI5AtBuqThriUDCi/khki9E4kCXiQ0bhDX8KxAjJd+T2nYhz8IaFFBqDELK46
8y8qxwhvsg1oO/oauB2bW0p4k8qtlvEBBwa4hoNfj9+mYLrDJW4x8aLJTryzeY3q
mzZn/ArVPpEyDKOHO3iLnlYN2QoU7UOly+0k47GmxXErKKSMN0lUaQEFQGipsB+/
3VpqCCY3swK4zwMjCqjvMYJTgyLPceSueBO8DFdt0l6lAgMBAAGjYzBhMB0GA1Ud
DgQWBBTqLqAD60kDTqv5/VTIclF8HhwLTTAfBgNVHSMEGDAWgBTqLqAD60kDTqv5
/VTIclF8HhwLTTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICpDANBgkq
hkiG9w0BAQsFAAOCAQEAJ1pdMAVMKlW5YK1kn9Ijp4mYZbJ/R6h9R1X79LXVKCik
PoTQhOi8z15gl/G3sdeRuaoFO5cx/crij8297wYYju5aXclwE/9IGBenYmdX3wAY
f0Pr+OfSTqAdCoKbYg5ASal+rwVn+NqvRvEyP/W2eilpZg5sVGbTjgkkYBiCq6Iy
5aBIblm8RcE076HJgISeSu4mm+dZ6kGjCfiDopB840nEU4Pa4KtdzlNWN5x5fTI3
N9gfIJflUyK9ZbaPeIdlsb+81u1rQHYukwmdccWKUCC3AN/2qkyJJIPS21H48n/u
9RC7vI+BIbgRbsDTpgAcJoY9SJZPuNPMpBTh9+xlXA==
-----END CERTIFICATE-----
`;
