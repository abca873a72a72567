import { describe, expect, it } from "vitest";
import { BLOCKED } from "./address-policy.fixture.js";
import { AddressPolicy } from "./address-policy.js";

const PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"];

describe("address policy", () => {
  it.each(BLOCKED)("refuses %s (%s)", (address, reason) => {
    expect(new AddressPolicy().refusal(address)).toContain(reason);
  });

  it("lets public unicast addresses through, and private ones only when the operator allows them", () => {
    const policy = new AddressPolicy();
    for (const address of PUBLIC) expect(policy.refusal(address), address).toBeUndefined();
    const intranet = new AddressPolicy(["10.20.0.0/16", "fd12::/16"]);
    expect(intranet.refusal("10.20.3.4")).toBeUndefined();
    expect(intranet.refusal("::ffff:10.20.3.4")).toBeUndefined();
    expect(intranet.refusal("fd12::5")).toBeUndefined();
    expect(intranet.refusal("10.21.0.1")).toBe("private");
    expect(intranet.refusal("169.254.169.254")).toBe("linkLocal");
  });
});
