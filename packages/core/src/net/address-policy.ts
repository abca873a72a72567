import ipaddr from "ipaddr.js";

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Which addresses a page fetch may connect to. Only public unicast addresses, never loopback,
 * private (RFC 1918, IPv6 ULA), link-local (cloud metadata 169.254.169.254 included),
 * carrier-grade NAT (Alibaba Cloud metadata 100.100.100.200), multicast, reserved or unspecified
 * ones; IPv4 embedded in IPv6 (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged
 * as the IPv4 address it carries. An operator allow-list of CIDR ranges overrides this.
 */
export class AddressPolicy {
  readonly #allowed: Cidr[];

  /** Throws on a range that does not parse (the config is validated before, so this names it). */
  constructor(allowRanges: readonly string[] = []) {
    this.#allowed = allowRanges.map((range) => {
      const text = range.trim();
      if (text.includes("/")) return ipaddr.parseCIDR(text);
      const address = ipaddr.parse(text);
      return [address, address.kind() === "ipv4" ? 32 : 128] as Cidr;
    });
  }

  /** Why the address is refused ("loopback", "private"...), or undefined when it may be fetched. */
  refusal(address: string): string | undefined {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
    } catch {
      return "unparsable address";
    }
    if (this.#isAllowed(parsed)) return undefined;
    const range = parsed.range();
    if (parsed.kind() === "ipv6") {
      const v6 = parsed as ipaddr.IPv6;
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
    return this.#allowed.some(
      ([network, bits]) => address.kind() === network.kind() && address.match(network, bits),
    );
  }
}

function embeddedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  if (range === "ipv4Mapped" || range === "rfc6052" || range === "rfc6145")
    return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === "6to4") return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}
