package dev.pauser.agent.cluster;

import dev.pauser.agent.config.JobAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * Opens the Curator client of a job's ensemble. A session outlives a lost connection for {@link #SESSION_TIMEOUT_MS}
 * (the worker's registration with it); each operation retries a few times, then fails, so no caller waits for long
 * while ZooKeeper is away. SASL and TLS are ZooKeeper's own client settings (system properties and a JAAS file, see the
 * README); a {@code digest} user for the job's nodes comes from a password file ({@code zkAuthFile}, holding
 * {@code user:password}): the nodes are then created readable and writable by that user only.
 */
public final class JobConnection {
    static final int SESSION_TIMEOUT_MS = 10_000;
    private static final int CONNECTION_TIMEOUT_MS = 5_000;

    private JobConnection() {
    }

    /** Thrown when the ensemble does not answer within the time given; the message is one line naming it. */
    public static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    /**
     * Starts a client and waits until it is connected.
     *
     * @throws Unreachable when it is not connected within {@code timeout} (the client is closed)
     */
    static CuratorFramework open(JobAddress address, Duration timeout, String threadPrefix, Path authFile)
            throws Unreachable {
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString(address.connect())
                .sessionTimeoutMs(SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(CONNECTION_TIMEOUT_MS)
                .retryPolicy(new ExponentialBackoffRetry(250, 3))
                .threadFactory(daemonThreads(threadPrefix));
        if (authFile != null) {
            String digest = readAuth(authFile);
            b.authorization("digest", digest.getBytes(StandardCharsets.UTF_8)).aclProvider(new JobAcl(digest));
        }
        CuratorFramework client = b.build();
        client.start();
        boolean connected;
        try {
            connected = client.blockUntilConnected((int) Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            client.close();
            throw new Unreachable("cannot reach ZooKeeper at " + address.connect() + " within "
                    + timeout.toSeconds() + " s; start the ensemble or check the connect string");
        }
        return client;
    }

    /**
     * {@code user:password} from the first line of {@code file}, which must be readable by its owner alone (it holds a
     * password).
     *
     * @throws IllegalArgumentException in one line, naming the file and the fix
     */
    static String readAuth(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("the ZooKeeper password file " + file + " is readable by others; "
                        + "chmod 600 " + file);
            }
        } catch (UnsupportedOperationException notPosix) {
            // a file system without POSIX permissions: nothing to check here
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the ZooKeeper password file " + file + ": " + e);
        }
        String line;
        try {
            line = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the ZooKeeper password file " + file + ": " + e);
        }
        int colon = line.indexOf(':');
        if (colon <= 0 || colon == line.length() - 1) {
            throw new IllegalArgumentException("the ZooKeeper password file " + file + " must hold user:password on "
                    + "its first line");
        }
        return line;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
