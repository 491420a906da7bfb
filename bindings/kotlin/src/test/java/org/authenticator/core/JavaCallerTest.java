package org.authenticator.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated API called from plain Java, the way a Java app (or a Java module of an Android
 * app) would: no unsigned Kotlin types, so every function is callable with Java's long and int.
 * Java sees no Kotlin default arguments: it passes every argument.
 */
class JavaCallerTest {
    @TempDir Path dir;

    /** RFC 6238's SHA-1 seed "12345678901234567890" in base32, with 8 digits. */
    private static final String RFC_URI =
            "otpauth://totp/RFC6238:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&issuer=RFC6238";

    private static byte[] newKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    @Test
    void openAddReadCodesAndCatchErrors() throws Exception {
        String db = dir.resolve("vault.db").toString();
        byte[] key = newKey();
        try (Authenticator auth = new Authenticator(db, key)) {
            AccountRecord account = auth.addAccountFromUri(RFC_URI);
            assertEquals("RFC6238", account.getIssuer());
            assertEquals("alice", account.getLabel());
            assertEquals(OtpKind.TOTP, account.getKind());
            int digits = account.getDigits();
            int period = account.getPeriod();
            long counter = account.getCounter();
            assertEquals(8, digits);
            assertEquals(30, period);
            assertEquals(0L, counter);

            long now = 59L;
            List<CodeRecord> codes = auth.codes(now);
            assertEquals(1, codes.size());
            CodeRecord code = codes.get(0);
            assertEquals(account.getId(), code.getAccountId());
            assertEquals("94287082", code.getValue());
            long validFrom = code.getValidFrom();
            long validUntil = code.getValidUntil();
            int secondsLeft = code.getSecondsLeft();
            assertEquals(30L, validFrom);
            assertEquals(60L, validUntil);
            assertEquals(1, secondsLeft);
            assertEquals("94287082", auth.takeCode(account.getId(), now).getValue());

            // Every argument spelled out: Java has no default arguments.
            auth.setAccountGroup(account.getId(), null);
            AccountRecord typed = auth.addAccount(
                    new AccountFields("Corp", "bob", OtpKind.HOTP, Algorithm.SHA1, 6, 30, 5L, "Work"),
                    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
            assertEquals(5L, typed.getCounter());

            // Typed errors are checked exceptions with the fields a UI reads, and a message.
            try {
                auth.removeAccount(4242L);
                fail("removed an account that does not exist");
            } catch (AuthException.NoSuchAccount e) {
                assertEquals(4242L, e.getId());
                assertTrue(e.getMessage().contains("4242"), e.getMessage());
            }
            try {
                auth.codes(-1L);
                fail("a negative time was accepted");
            } catch (AuthException e) {
                assertTrue(e instanceof AuthException.InvalidArgument, e.toString());
                assertFalse(e.getMessage().isEmpty());
            }
            try {
                auth.importFile(auth.exportBackup("correct horse battery"), null);
                fail("an encrypted backup imported without its password");
            } catch (AuthException.PasswordRequired e) {
                assertTrue(e.getMessage().contains("password"), e.getMessage());
                assertEquals(e.getDetail(), e.toString());
            }
        }

        AuthException.WrongKey wrongKey =
                assertThrows(AuthException.WrongKey.class, () -> new Authenticator(db, newKey()));
        assertTrue(wrongKey.getMessage().contains("wrong key"), wrongKey.getMessage());

        // The right key still opens it.
        try (Authenticator auth = new Authenticator(db, key.clone())) {
            assertEquals(2, auth.listAccounts().size());
        }
    }
}
