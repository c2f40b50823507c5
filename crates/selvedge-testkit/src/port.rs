//! Loopback ports for servers a test starts later, or restarts.

use std::sync::atomic::{AtomicU32, Ordering};

/// A port on 127.0.0.1 that was free a moment ago, for a server that binds it later
/// (or binds it again after a restart).
///
/// It lies below the OS's ephemeral range (where that range starts above 11 000, as
/// Linux's default, 32 768, does), and no other caller in this process gets it. A
/// port the OS picks for port 0 would not do: once released, it is back in the pool
/// from which parallel tests' binds to port 0 and every outgoing connection's local
/// port are drawn, and one of them can take it before the server binds it.
///
/// # Panics
/// If no port in the range binds.
pub fn free_port() -> u16 {
    const LOW: u32 = 10_000;
    let high = ephemeral_low().clamp(LOW + 1_000, 32_768);
    let span = high - LOW;
    // Distinct processes start apart; within one, the counter never repeats a port.
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7_919) % span,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span {
        let port = (LOW + NEXT.fetch_add(1, Ordering::Relaxed) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {LOW}..{high}");
}

/// The first port of the OS's ephemeral range (Linux's default when unknown).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let low = ephemeral_low();
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            ports.len(),
            "a port was handed out twice: {ports:?}"
        );
        for port in ports {
            if low > 11_000 {
                assert!(u32::from(port) < low, "{port} is in the ephemeral range");
            }
            std::net::TcpListener::bind(("127.0.0.1", port)).expect("binds");
        }
    }
}
