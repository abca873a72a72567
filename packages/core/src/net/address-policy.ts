import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** IPv6 ranges refused whole that ipaddr.js calls unicast (::/96) or reads an IPv4 address from (64:ff9b:1::/48). */
const REFUSED_IPV6: Array<[string, Cidr]> = [
  ["ipv4Compatible", ipaddr.parseCIDR("::/96")],
  ["localUseNat64", ipaddr.parseCIDR("64:ff9b:1::/48")],
];

/**
 * An allow-list entry: a CIDR range or a single address, in the forms a socket takes (no "1.2.3"
 * or octal). Throws an Error naming what is wrong.
 */
export function parseAddressRange(range: string): Cidr {
  const text = range.trim();
  const [address = "", bits, extra] = text.split("/");
  if (extra !== undefined || isIP(address) === 0)
    throw new Error(`"${range}" is not an IP address or CIDR range (e.g. 10.20.0.0/16, fd12::/16)`);
  if (bits === undefined) {
    const parsed = ipaddr.parse(address);
    return [parsed, parsed.kind() === "ipv4" ? 32 : 128];
  }
  const max = isIP(address) === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    throw new Error(`"${range}" has a prefix length outside 0-${max}`);
  return ipaddr.parseCIDR(`${address}/${bits}`);
}

/**
 * The private networks an intranet lives in (AddressPolicy's `privateNetworks`): RFC 1918 and IPv6
 * unique-local. Not loopback, link-local (cloud metadata 169.254.169.254, fe80::/10), carrier-grade
 * NAT (Alibaba Cloud's metadata 100.100.100.200 lies in 100.64.0.0/10) or unspecified.
 */
const PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"].map(parseAddressRange);
/** Cloud metadata inside those: AWS's IPv6 instance metadata (fd00:ec2::254) and its neighbours. */
const METADATA_IN_PRIVATE_NETWORKS = ["fd00:ec2::/32"].map(parseAddressRange);

/**
 * Which addresses a fetch of a user-given URL may connect to. Only public unicast addresses, never
 * loopback, private (RFC 1918, IPv6 ULA), link-local (cloud metadata 169.254.169.254 included),
 * carrier-grade NAT (Alibaba Cloud metadata 100.100.100.200), multicast, reserved, documentation,
 * benchmarking or unspecified ones (ipaddr.js's special ranges); IPv4 embedded in IPv6 (mapped
 * ::ffff:0:0/96, translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged as the
 * IPv4 address it carries. Also refused: the deprecated IPv4-compatible ::/96, local-use NAT64
 * 64:ff9b:1::/48 (the operator's own translator, whose embedding is its own choice) and anything
 * that is not an address in the form a socket takes. An operator allow-list of CIDR ranges
 * overrides all of this; `privateNetworks` lets the private networks through (RFC 1918 and IPv6
 * unique-local, but not the cloud metadata addresses among them).
 */
export class AddressPolicy {
  readonly #allowed: Cidr[];
  readonly #privateNetworks: boolean;

  /** Throws on a range that does not parse (the config checks its ranges with parseAddressRange before). */
  constructor(allowRanges: readonly string[] = [], options: { privateNetworks?: boolean } = {}) {
    this.#allowed = allowRanges.map(parseAddressRange);
    this.#privateNetworks = options.privateNetworks ?? false;
  }

  /** Why the address is refused ("loopback", "private"...), or undefined when it may be fetched. */
  refusal(address: string): string | undefined {
    const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    // ipaddr.js also reads forms a socket does not take ("1.2.3", octal, hex): refused unread.
    const family = isIP(bare);
    if (family === 0) return "unparsable address";
    // ipaddr.js reads "::a.b.c.d" as IPv4-mapped; the URL parser writes it as the socket reads it.
    const parsed = ipaddr.parse(family === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare);
    if (this.#isAllowed(parsed)) return undefined;
    const range = parsed.range();
    if (parsed.kind() === "ipv6") {
      const v6 = parsed as ipaddr.IPv6;
      // :: and ::1 keep their own names.
      const whole =
        range === "unspecified" || range === "loopback"
          ? undefined
          : REFUSED_IPV6.find(([, [network, bits]]) => v6.match(network, bits));
      if (whole) return whole[0];
      const embedded = embeddedIpv4(v6, range);
      if (embedded) {
        if (this.#isAllowed(embedded)) return undefined;
        const inner = embedded.range();
        return inner === "unicast" ? undefined : `${inner} (embedded in ${range})`;
      }
    }
    return range === "unicast" ? undefined : range;
  }

  #isAllowed(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    const within = (ranges: readonly Cidr[]) =>
      ranges.some(([network, bits]) => address.kind() === network.kind() && address.match(network, bits));
    if (within(this.#allowed)) return true;
    return this.#privateNetworks && within(PRIVATE_NETWORKS) && !within(METADATA_IN_PRIVATE_NETWORKS);
  }
}

function embeddedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  if (range === "ipv4Mapped" || range === "rfc6052" || range === "rfc6145")
    return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === "6to4") return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}
