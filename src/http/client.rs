//! Who the client is: its address and whether it came over HTTPS. Both are
//! read from `X-Forwarded-For` and `X-Forwarded-Proto` only when the peer
//! is a configured trusted proxy (`DMS_TRUSTED_PROXIES`); from anyone else
//! those headers are ignored, so a client cannot choose its own address
//! (and escape its rate limits) or claim HTTPS.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The peer's address (the proxy's, behind a proxy).
fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client's address: the peer's, or behind trusted proxies the last
/// address of `X-Forwarded-For` that is not one of them.
pub fn client_ip(parts: &Parts, proxies: &[IpNet]) -> IpAddr {
    let peer = peer(parts);
    if !trusted(peer, proxies) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted(**ip, proxies))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// Whether the client reached us over HTTPS, as a trusted proxy says.
pub fn is_https(parts: &Parts, proxies: &[IpNet]) -> bool {
    trusted(peer(parts), proxies)
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Adds HSTS to every answer given over HTTPS: a browser that met the
/// server over HTTPS never falls back to plain HTTP for it.
pub async fn strict_transport(
    axum::extract::State(proxies): axum::extract::State<std::sync::Arc<[IpNet]>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let https = is_https(&parts, &proxies);
    let mut response = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if https {
        response.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Parses `DMS_TRUSTED_PROXIES`: addresses or networks, separated by
/// commas or spaces (`127.0.0.1, 10.0.0.0/8`).
pub fn parse_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{s:?} is neither an IP address nor a network (e.g. 10.0.0.0/8)")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut req = Request::builder();
        if let Some(f) = forwarded {
            req = req
                .header("x-forwarded-for", f)
                .header("x-forwarded-proto", "https");
        }
        let (mut parts, ()) = req
            .body(())
            .map(|r| r.into_parts())
            .unwrap_or_else(|_| unreachable!());
        let addr: SocketAddr = format!("{peer}:1234")
            .parse()
            .unwrap_or_else(|_| unreachable!());
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxies = parse_proxies("10.0.0.1, 192.168.0.0/16").unwrap();
        let direct = parts("203.0.113.9", Some("1.2.3.4"));
        assert_eq!(
            client_ip(&direct, &proxies),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert!(!is_https(&direct, &proxies));
        let proxied = parts("10.0.0.1", Some("1.2.3.4, 5.6.7.8, 192.168.1.1"));
        assert_eq!(
            client_ip(&proxied, &proxies),
            "5.6.7.8".parse::<IpAddr>().unwrap()
        );
        assert!(is_https(&proxied, &proxies));
        assert!(parse_proxies("not-an-ip").is_err());
    }
}
