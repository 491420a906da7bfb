package org.authenticator.core.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.authenticator.core.AuthException;
import org.authenticator.core.Authenticator;
import org.authenticator.core.CodeRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * `codes(now)` for 1,000 accounts through JNA: one screen refresh of a big vault, including
 * the RustBuffer decoding into 1,000 Kotlin `CodeRecord`s. Target ≤ 5 ms.
 *
 * <p>Java, because JMH's annotation processor runs in javac; it calls `codes(long)` directly,
 * as any Java caller can (the API has no unsigned types).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CodesBenchmark {
    /** Vault size; `-p accounts=1,1000` also shows the fixed cost of one crossing. */
    @Param({"1000"})
    public int accounts;

    private Path dir;
    private Authenticator auth;
    private long now;

    @Setup(Level.Trial)
    public void openVault() throws IOException, AuthException {
        dir = Files.createTempDirectory("codes-bench");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        auth = new Authenticator(dir.resolve("vault.db").toString(), key);
        String[] algorithms = {"SHA1", "SHA256", "SHA512"};
        for (int i = 0; i < accounts; i++) {
            String kind = i % 10 == 9 ? "hotp" : "totp";
            auth.addAccountFromUri("otpauth://" + kind + "/Issuer" + i + ":user" + i + "@example.com"
                    + "?secret=JBSWY3DPEHPK3PXP" + base32Suffix(i)
                    + "&issuer=Issuer" + i + "&algorithm=" + algorithms[i % 3] + "&digits=" + (6 + i % 3)
                    + (kind.equals("hotp") ? "&counter=" + i : "&period=" + (i % 2 == 0 ? 30 : 60)));
        }
        now = System.currentTimeMillis() / 1000;
        List<CodeRecord> codes = auth.codes(now);
        if (codes.size() != accounts) throw new IllegalStateException("expected " + accounts + " codes, got " + codes.size());
    }

    /** Eight base32 characters from i: distinct 15-byte secrets. */
    private static String base32Suffix(int i) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < 8; k++) s.append(alphabet.charAt((i >> (5 * (k % 6))) & 31));
        return s.toString();
    }

    @Benchmark
    public List<CodeRecord> codes() throws AuthException {
        return auth.codes(now);
    }

    @TearDown(Level.Trial)
    public void closeVault() throws IOException {
        auth.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
