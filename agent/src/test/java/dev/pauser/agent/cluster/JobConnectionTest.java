package dev.pauser.agent.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ZooKeeper password file: its owner's alone, {@code user:password} on its first line. */
class JobConnectionTest {
    @TempDir
    Path tmp;

    @Test
    void readsUserAndPasswordFromAnOwnerOnlyFile() throws Exception {
        Path f = file("alice:s3cr:et\nignored\n", "rw-------");
        assertEquals("alice:s3cr:et", JobConnection.readAuth(f));
    }

    @Test
    void refusesAFileOthersCanReadOrOneWithoutUserAndPassword() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JobConnection.readAuth(file("alice:pw\n", "rw-r--r--")));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        for (String bad : new String[] {"alice\n", ":pw\n", "alice:\n", ""}) {
            e = assertThrows(IllegalArgumentException.class, () -> JobConnection.readAuth(file(bad, "rw-------")), bad);
            assertTrue(e.getMessage().contains("user:password"), e.getMessage());
        }
    }

    private Path file(String content, String perms) throws Exception {
        Path f = Files.createTempFile(tmp, "zk", ".pw");
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }
}
