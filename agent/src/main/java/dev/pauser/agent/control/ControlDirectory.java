package dev.pauser.agent.control;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Where control sockets live: {@code <java.io.tmpdir>/pauser-<uid>/<pid>-<random>.sock}, in a directory only its user
 * can enter (0700, owned by that user, not a link), as the JDK keeps {@code hsperfdata_<user>}. The directory, not the
 * socket's own mode, keeps other users out; the server checks each peer's credentials besides. A directory of that name
 * that fails the checks (made by someone else, a link, open to others) is not used: the socket then goes into a fresh
 * private directory instead, removed with the socket. Paths stay under the ~107-byte limit of a socket address: a long
 * {@code java.io.tmpdir} gives way to {@code /tmp}.
 */
public final class ControlDirectory {
    /** sun_path is 108 bytes on Linux, with its terminating NUL; leave a margin. */
    static final int MAX_PATH_BYTES = 100;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    /** The names this code gives sockets; nothing else in the directory is ever touched. */
    private static final Pattern SOCKET_NAME = Pattern.compile("\\d+-[0-9a-f]{8}\\.sock");

    private ControlDirectory() {
    }

    /** A socket path handed out to one server. */
    record Socket(Path path, boolean privateDirectory) {
        /** Removes the socket file, and the directory if it was made for this socket alone. */
        void delete() {
            try {
                Files.deleteIfExists(path);
                if (privateDirectory) {
                    Files.deleteIfExists(path.getParent());
                }
            } catch (IOException e) {
                // left behind: the next server started by this user removes a stale socket
            }
        }
    }

    /** The process's effective user: the owner of {@code /proc/self} on Linux, else the {@code user.name} principal. */
    static UserPrincipal currentUser() throws IOException {
        Path self = Paths.get("/proc/self");
        if (Files.isDirectory(self)) {
            return Files.getOwner(self);
        }
        return FileSystems.getDefault().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
    }

    /** Whether {@code user} is uid 0, which both ends of the control channel let through. */
    public static boolean isRoot(UserPrincipal user) {
        // uid 0 shows as its name, or as "0" where the user database has no entry for it
        return "root".equals(user.getName()) || "0".equals(user.getName());
    }

    /** A fresh socket path in this user's control directory (or a private one, saying why to {@code log}). */
    static Socket newSocket(UserPrincipal me, Consumer<String> log) throws IOException {
        Path base = Paths.get(System.getProperty("java.io.tmpdir", "/tmp")).toAbsolutePath();
        String name = ProcessHandle.current().pid() + "-" + randomHex() + ".sock";
        String tag = userTag(Paths.get("/proc/self"), me);
        Path shared = base.resolve("pauser-" + tag);
        if (bytes(shared.resolve(name)) > MAX_PATH_BYTES) {
            base = Paths.get("/tmp");
            shared = base.resolve("pauser-" + tag);
        }
        String problem = prepare(shared, me);
        if (problem == null) {
            return new Socket(shared.resolve(name), false);
        }
        log.accept("control directory " + shared + " " + problem + "; using a private directory instead");
        Path own = Files.createTempDirectory(base, "pauser-");
        return new Socket(own.resolve(name), true);
    }

    /**
     * Makes the shared directory if it is missing; returns null if it is fit to hold sockets, else what is wrong. A
     * directory this user made in a sticky {@code /tmp} can't be replaced by anyone else afterwards.
     */
    static String prepare(Path dir, UserPrincipal me) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            // the umask can only have removed bits; make sure the owner has all three
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // checked below
        } catch (UnsupportedOperationException e) {
            return "can't be made owner-only on this file system";
        }
        return problem(dir, me);
    }

    /** What makes {@code dir} unfit to hold {@code me}'s sockets, or null if it is fit. */
    private static String problem(Path dir, UserPrincipal me) throws IOException {
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink() || !a.isDirectory()) {
            return "is not a directory (a link or a file)";
        }
        if (!a.owner().equals(me)) {
            return "belongs to " + a.owner().getName() + ", not " + me.getName();
        }
        Set<PosixFilePermission> others = EnumSet.copyOf(a.permissions());
        others.removeAll(OWNER_ONLY);
        if (!others.isEmpty()) {
            return "is open to other users (mode " + PosixFilePermissions.toString(a.permissions())
                    + "; expected rwx------)";
        }
        return null;
    }

    /**
     * Removes the sockets in {@code own}'s directory that nobody serves any more (their JVM was killed): a connection
     * to one is refused. A live socket accepts, even one of another process namespace sharing {@code /tmp} with the
     * same pid, so it is left alone.
     */
    static void removeStale(Socket own) {
        Path dir = own.path().getParent();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (p.equals(own.path()) || !SOCKET_NAME.matcher(p.getFileName().toString()).matches()
                        || !isSocket(p)) {
                    continue;
                }
                if (!ownerAlive(p) && refused(p)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: what stays is removed by a later server
        }
    }

    private static boolean isSocket(Path p) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return a.isOther();
    }

    /**
     * Whether the process named in a socket's name still runs. A live server's socket is never removed: between its
     * bind and its listen a connection is refused too, so refusal alone would let JVMs starting at the same moment
     * remove each other's sockets.
     */
    private static boolean ownerAlive(Path socket) {
        String name = socket.getFileName().toString();
        long pid = Long.parseLong(name.substring(0, name.indexOf('-')));
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static boolean refused(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.configureBlocking(false);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The sockets JVM {@code pid} may serve in its user's control directory under {@code /tmp}, for a client that knows
     * the pid only: the names that pid's servers take, in a directory that passes the same checks as when a server
     * made it (owned by the process's user, 0700, not a link). Empty where there is none, or it can't be read (another
     * user's directory, no {@code /proc}); the client then asks the JVM itself for its socket.
     */
    public static List<Path> published(long pid) {
        Path proc = Paths.get("/proc", Long.toString(pid));
        List<Path> found = new ArrayList<>();
        try {
            UserPrincipal owner = Files.getOwner(proc);
            Path dir = Paths.get("/tmp", "pauser-" + userTag(proc, owner));
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || problem(dir, owner) != null) {
                return found;
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, pid + "-*.sock")) {
                for (Path p : entries) {
                    if (SOCKET_NAME.matcher(p.getFileName().toString()).matches()) {
                        found.add(p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not readable from here: the client falls back to the Attach API
        }
        return found;
    }

    /**
     * The pids that have a socket in the current user's control directory under {@code /tmp}: the JVMs running the
     * agent that a command can reach even where the Attach API does not list them (attach disabled).
     * A stale socket's pid may be among them; connecting tells.
     */
    public static List<Long> publishedPids() {
        List<Long> pids = new ArrayList<>();
        try {
            Path self = Paths.get("/proc/self");
            UserPrincipal me = Files.getOwner(self);
            Path dir = Paths.get("/tmp", "pauser-" + userTag(self, me));
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || problem(dir, me) != null) {
                return pids;
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.sock")) {
                for (Path p : entries) {
                    String name = p.getFileName().toString();
                    if (SOCKET_NAME.matcher(name).matches()) {
                        pids.add(Long.parseLong(name.substring(0, name.indexOf('-'))));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc, or nothing readable: the Attach API's list is all there is
        }
        return pids;
    }

    /** The uid of {@code proc}'s process where the file system tells it, else the user name in safe characters. */
    private static String userTag(Path proc, UserPrincipal user) {
        try {
            Object uid = Files.getAttribute(proc, "unix:uid");
            if (uid instanceof Integer) {
                return uid.toString();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return user.getName().replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static String randomHex() {
        // uniqueness only: the directory, not the name, keeps others out
        return String.format("%08x", java.util.concurrent.ThreadLocalRandom.current().nextInt());
    }

    private static int bytes(Path p) {
        return p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
