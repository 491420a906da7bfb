//! A real NTP server for tests: chronyd (Debian's `chrony`) serving its own clock on 127.0.0.1
//! at a free high port, with a private configuration in a temp dir. `-x`: it never touches the
//! machine's clock; `-d`: in the foreground, a child of the test, killed by PID on drop (and by
//! its own `-t` limit should the test die without dropping it). One file, included by path by
//! the core's unit tests and the CLI tests. chrony comes from scripts/provision.sh (./test-all
//! runs it first): the tests fail, never skip, for want of it.

#![allow(dead_code)] // each includer uses its own subset

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running chronyd; stopped on drop.
pub struct Chrony {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Child,
    _dir: tempfile::TempDir,
}

fn chronyd() -> PathBuf {
    ["/usr/sbin/chronyd", "/usr/bin/chronyd", "/sbin/chronyd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("chronyd is missing: run scripts/provision.sh once (./test-all does)")
}

impl Chrony {
    /// Starts chronyd and waits until it answers SNTP.
    pub fn start() -> Chrony {
        let binary = chronyd();
        let dir = tempfile::Builder::new().prefix("chrony-test-").tempdir().unwrap();
        // A free port: bound and released (chronyd binds it a moment later).
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = dir.path().join("chrony.conf");
        let d = dir.path().display();
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbindaddress 127.0.0.1\ncmdport 0\nbindcmdaddress /\nlocal stratum 8\nallow 127.0.0.1\n\
                 pidfile {d}/chronyd.pid\ndriftfile {d}/chrony.drift\n"
            ),
        )
        .unwrap();
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let mut command = Command::new(binary);
        // -U: allowed to run unprivileged; as root, -u root keeps it from switching to _chrony
        // (which could not read the private config).
        command.args(["-x", "-d", "-U", "-t", "300", "-f"]).arg(&conf);
        if root {
            command.args(["-u", "root"]);
        }
        let child =
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chronyd");
        let chrony = Chrony { addr: format!("127.0.0.1:{port}"), child, _dir: dir };
        chrony.wait_until_serving();
        chrony
    }

    fn wait_until_serving(&self) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut request = [0u8; 48];
        request[0] = 0x23;
        request[47] = 1;
        while Instant::now() < deadline {
            let _ = socket.send_to(&request, &self.addr);
            let mut buf = [0u8; 128];
            if let Ok((n, _)) = socket.recv_from(&mut buf)
                && n >= 48
            {
                return;
            }
        }
        panic!("chronyd did not answer on {} within 20 s", self.addr);
    }
}

impl Drop for Chrony {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
