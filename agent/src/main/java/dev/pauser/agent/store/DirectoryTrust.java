package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * Whether another user could have put what is in a checkpoint directory. A checkpoint is restored into the training
 * program's fields, so one planted by another user is forged state; a planted symbolic link makes the agent write where
 * that user chooses. A directory or file is trusted when it is owned by the user running this JVM (or by root) and
 * neither its group nor other users can write it; a checkpoint directory and the files in it must also not be symbolic
 * links. The checks need POSIX attributes; where the file system has none (Windows) they are skipped.
 *
 * <p>Each method returns {@code null} when all is well, else one line naming the path, what is wrong, and the fix.
 */
public final class DirectoryTrust {
    /** The owner of files this JVM creates, or null where it cannot be told (then only root-owned files pass). */
    private static final Owner ME = Owner.current();

    private DirectoryTrust() {
    }

    /**
     * A checkpoint root ({@code dir=}, or a directory given to {@code resume=}): a symbolic link there is followed, as
     * the user named it, and the directory it leads to is checked.
     *
     * @param option the option that named it, {@code dir=} or {@code resume=}, for the advice
     */
    public static String rootProblem(Path dir, String option) {
        PosixFileAttributes a;
        try {
            a = posix(dir, true);
        } catch (IOException e) {
            return dir + ": cannot read its owner and permissions (" + e + "); check the path or choose another "
                    + option;
        }
        if (a == null) {
            return null;
        }
        if (!a.isDirectory()) {
            return dir + " is not a directory: " + option + " must name a directory; remove or rename " + dir;
        }
        if (!trustedOwner(a.owner())) {
            return dir + ": the checkpoint directory is owned by " + a.owner().getName() + ", not by " + me()
                    + "; another user could plant a checkpoint there that this run would resume from: choose another "
                    + option + " (or, if that user is you, chown it)";
        }
        if (othersCanWrite(a)) {
            return dir + ": the checkpoint directory is writable by its group or other users ("
                    + PosixFilePermissions.toString(a.permissions()) + "), who could plant a checkpoint that this "
                    + "run would resume from: run chmod 700 " + dir + " or choose another " + option;
        }
        return null;
    }

    /**
     * The directory holding a checkpoint given as {@code resume=<path>}: it may be writable by others only if it is
     * sticky ({@code /tmp}), where nobody can rename or replace another user's entries.
     */
    public static String parentProblem(Path parent) {
        PosixFileAttributes a;
        try {
            a = posix(parent, true);
        } catch (IOException e) {
            return parent + ": cannot read its owner and permissions (" + e + ")";
        }
        if (a == null || !othersCanWrite(a) || sticky(parent)) {
            return null;
        }
        return parent + " is writable by its group or other users (" + PosixFilePermissions.toString(a.permissions())
                + "), who could swap the checkpoint in it: run chmod go-w " + parent + " or copy the checkpoint "
                + "into a directory only you can write";
    }

    /**
     * One checkpoint directory and every entry directly in it: real directories and regular files (never symbolic links),
     * owned by this user or root, not writable by group or others. Files are not opened.
     */
    public static String checkpointProblem(Path ckptDir) {
        try {
            String p = entryProblem(ckptDir, true);
            if (p != null) {
                return p;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(ckptDir)) {
                for (Path f : ds) {
                    p = entryProblem(f, false);
                    if (p != null) {
                        return p;
                    }
                }
            }
            return null;
        } catch (IOException e) {
            return ckptDir + ": cannot read its owner and permissions: " + e;
        }
    }

    /** The lock file, when it exists: a regular file owned by this user or root (never followed if a link). */
    static String lockProblem(Path lockFile) {
        PosixFileAttributes a;
        try {
            a = posix(lockFile, false);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return lockFile + ": cannot read its owner and permissions (" + e + ")";
        }
        if (a == null) {
            return null;
        }
        if (!a.isRegularFile()) {
            return lockFile + " is " + (a.isSymbolicLink() ? "a symbolic link" : "not a regular file")
                    + ", not a lock file this agent made; remove it (the agent never follows links in its directory)";
        }
        if (!trustedOwner(a.owner())) {
            return lockFile + " is owned by " + a.owner().getName() + ", not by " + me() + "; remove it or choose "
                    + "another dir=";
        }
        return null;
    }

    private static String entryProblem(Path p, boolean directory) throws IOException {
        PosixFileAttributes a = posix(p, false);
        if (a == null) {
            return null;
        }
        if (a.isSymbolicLink()) {
            return p + " is a symbolic link; a checkpoint is never read through links: not resumed from";
        }
        if (directory ? !a.isDirectory() : !a.isRegularFile()) {
            return p + " is not a " + (directory ? "directory" : "regular file") + "; not resumed from";
        }
        if (!trustedOwner(a.owner())) {
            return p + " is owned by " + a.owner().getName() + ", not by " + me() + "; another user's checkpoint "
                    + "is not resumed from";
        }
        if (othersCanWrite(a)) {
            return p + " is writable by its group or other users (" + PosixFilePermissions.toString(a.permissions())
                    + "); not resumed from (chmod go-w it if you trust its content)";
        }
        return null;
    }

    /** Null where the file system has no POSIX attributes. */
    private static PosixFileAttributes posix(Path p, boolean followLinks) throws IOException {
        if (!p.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return null;
        }
        return followLinks ? Files.readAttributes(p, PosixFileAttributes.class)
                : Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }

    private static boolean othersCanWrite(PosixFileAttributes a) {
        Set<PosixFilePermission> perms = a.permissions();
        return perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE);
    }

    private static boolean sticky(Path dir) {
        try {
            Object mode = Files.getAttribute(dir, "unix:mode");
            return mode instanceof Integer m && (m & 01000) != 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean trustedOwner(UserPrincipal owner) {
        return ME != null && ME.is(owner) || Owner.isRoot(owner);
    }

    private static String me() {
        return ME == null ? "the user running this JVM" : ME.name + " (the user running this JVM)";
    }

    /** The user running this JVM, as file owners are compared. */
    private static final class Owner {
        final UserPrincipal principal;
        final String name;

        private Owner(UserPrincipal principal) {
            this.principal = principal;
            this.name = principal.getName();
        }

        /**
         * {@code /proc/self} is owned by the process's effective user (Linux); elsewhere the principal named by
         * {@code user.name}.
         */
        static Owner current() {
            try {
                Path self = Path.of("/proc/self");
                if (Files.isDirectory(self)) {
                    return new Owner(Files.getOwner(self));
                }
            } catch (IOException | RuntimeException ignored) {
                // fall through
            }
            try {
                String name = System.getProperty("user.name");
                if (name != null) {
                    return new Owner(java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService()
                            .lookupPrincipalByName(name));
                }
            } catch (IOException | RuntimeException ignored) {
                // fall through: only root-owned entries pass
            }
            return null;
        }

        boolean is(UserPrincipal owner) {
            return principal.equals(owner);
        }

        static boolean isRoot(UserPrincipal owner) {
            // uid 0 shows as its name, or as "0" where the user database has no entry for it
            return "root".equals(owner.getName()) || "0".equals(owner.getName());
        }
    }
}
