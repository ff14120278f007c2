package org.alexkafka.pipeline.metrics;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Where the kernel has sockets listening (Linux: /proc/net/tcp and tcp6). */
final class Listening {

  private static final String LISTEN = "0A";

  private Listening() {}

  /** The local addresses of every TCP socket listening on {@code port}, in this network namespace. */
  static List<InetAddress> addresses(int port) throws IOException {
    assumeTrue(Files.exists(Path.of("/proc/net/tcp")), "Linux /proc/net/tcp");
    List<InetAddress> out = new ArrayList<>();
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(file);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p).subList(1, Files.readAllLines(p).size())) {
        String[] f = line.trim().split("\\s+");
        String[] local = f[1].split(":");
        if (f[3].equals(LISTEN) && Integer.parseInt(local[1], 16) == port) {
          out.add(address(local[0]));
        }
      }
    }
    return out;
  }

  /** /proc/net/tcp's hex address: 32-bit words, each in the host's (little-endian) byte order. */
  private static InetAddress address(String hex) throws IOException {
    byte[] bytes = new byte[hex.length() / 2];
    for (int word = 0; word < bytes.length / 4; word++) {
      for (int b = 0; b < 4; b++) {
        int at = word * 8 + (3 - b) * 2;
        bytes[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
      }
    }
    return InetAddress.getByAddress(bytes); // an IPv4-mapped IPv6 address comes back as IPv4
  }

  /** This machine's addresses that are not loopback (none in a bare network namespace). */
  static List<InetAddress> nonLoopbackAddressesOfThisMachine() throws IOException {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        Collections.list(nic.getInetAddresses()).stream()
            .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress()).forEach(out::add);
      }
    }
    return out;
  }
}
