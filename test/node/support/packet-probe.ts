/**
 * Real TCP connections from inside a Pod, many at once, each with what became of its SYN.
 *
 * kube-router does not drop what a NetworkPolicy denies: it REJECTs it with an ICMP port-unreachable
 * (pod.go in kube-router v2.1.0), which a client reads as ECONNREFUSED, exactly like the TCP RST of
 * a port nothing listens on. bash's /dev/tcp cannot tell the two apart, so the probe is a Perl script
 * (perl-base is Essential in Debian, so it is in every image of the node, the tenant's own included)
 * that sets IP_RECVERR on each socket: an ICMP error is then queued on the socket (MSG_ERRQUEUE),
 * while an RST queues nothing. Verdicts:
 *   connected  the destination accepted: the policy let the SYN through
 *   reset      the destination's own kernel answered RST (nothing listens): the SYN reached it
 *   rejected   an ICMP error came back instead: the firewall refused the SYN
 *   timeout    nothing came back: dropped (the node's egress guard), or the firewall's ICMP was
 *              suppressed by the kernel's ICMP rate limit (6 at once, then 1/s per source address)
 * So "reached" (connected or reset) is what the policies allowed; everything else is what they did not.
 */
import type * as k8s from "@kubernetes/client-node";
import { execInPod } from "./pods.js";

export type Verdict = "connected" | "reset" | "rejected" | "timeout" | `error-${string}`;

export interface Target {
  ip: string;
  port: number;
}

export const reached = (verdict: Verdict): boolean => verdict === "connected" || verdict === "reset";

/** Reads "ip port" lines on stdin, connects to all at once, prints "ip port verdict" lines. */
const PROBE_SCRIPT = String.raw`
use strict; use warnings;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_ERROR pack_sockaddr_in inet_aton);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Errno qw(EINPROGRESS ECONNREFUSED);
my ($IPPROTO_IP, $IP_RECVERR, $MSG_ERRQUEUE, $MSG_DONTWAIT) = (0, 11, 0x2000, 0x40);
my $deadline = time + $ARGV[0];
my (%pending, %verdict);
for my $line (grep { /\S/ } <STDIN>) {
  my ($ip, $port) = split ' ', $line;
  my $key = "$ip $port";
  socket(my $fh, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
  setsockopt($fh, $IPPROTO_IP, $IP_RECVERR, pack('i', 1)) or die "IP_RECVERR: $!";
  fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
  if (connect($fh, pack_sockaddr_in($port, inet_aton($ip)))) { $verdict{$key} = 'connected'; close $fh; next; }
  if ($! != EINPROGRESS) { $verdict{$key} = 'error-' . ($! + 0); next; }
  $pending{fileno $fh} = [$fh, $key];
}
while (%pending && time < $deadline) {
  my $writable = ''; vec($writable, $_, 1) = 1 for keys %pending;
  next if select(undef, $writable, undef, 0.2) <= 0;
  for my $fd (grep { vec($writable, $_, 1) } keys %pending) {
    my ($fh, $key) = @{ delete $pending{$fd} };
    my $err = unpack('i', getsockopt($fh, SOL_SOCKET, SO_ERROR));
    my $icmp = defined recv($fh, my $ignored, 512, $MSG_ERRQUEUE | $MSG_DONTWAIT);
    $verdict{$key} = $err == 0 ? 'connected' : $icmp ? 'rejected' : $err == ECONNREFUSED ? 'reset' : "error-$err";
    close $fh;
  }
}
$verdict{ $_->[1] } = 'timeout' for values %pending;
print "$_ $verdict{$_}\n" for sort keys %verdict;
`;

/** Connects from the Pod's container to every target at once; the verdict of each, keyed "ip port". */
export async function probeFrom(kc: k8s.KubeConfig, namespace: string, pod: string, container: string, targets: readonly Target[], timeoutSeconds = 3): Promise<Map<string, Verdict>> {
  const input = targets.map((t) => `${t.ip} ${t.port}\n`).join("");
  const result = await execInPod(kc, namespace, pod, container, ["perl", "-e", PROBE_SCRIPT, String(timeoutSeconds)], input);
  const verdicts = new Map<string, Verdict>();
  for (const line of result.stdout.split("\n").filter((l) => l !== "")) {
    const [ip, port, verdict] = line.split(" ");
    verdicts.set(`${ip} ${port}`, verdict as Verdict);
  }
  const missing = targets.filter((t) => !verdicts.has(`${t.ip} ${t.port}`));
  if (missing.length > 0) throw new Error(`probe in ${namespace}/${pod} gave no verdict for ${missing.length} targets (status ${result.status}): ${result.stdout.slice(0, 300)} ${result.stderr}`);
  return verdicts;
}
