package dev.pauser.agent.config;

import java.util.regex.Pattern;

/**
 * Where a training job of several worker JVMs is coordinated: a ZooKeeper connect string ({@code host:port} entries
 * joined by commas) and the path of the job's node, as the {@code cluster} option and the {@code pauser job} commands
 * take them: {@code h1:2181,h2:2181,h3:2181/pauser/jobs/mnist}. Immutable.
 */
public record JobAddress(String connect, String path) {
    private static final Pattern HOST_PORT = Pattern.compile("[^,/\\s:]+(:\\d{1,5})?");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");

    /**
     * Parses {@code <connect string>/<job path>}.
     *
     * @throws IllegalArgumentException naming what is wrong, in words for a one-line error
     */
    public static JobAddress parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not <ZooKeeper connect string>/<job path>, such as "
                    + "zk1:2181,zk2:2181,zk3:2181/pauser/jobs/mnist");
        }
        String connect = t.substring(0, slash);
        String path = t.substring(slash);
        for (String server : connect.split(",", -1)) {
            if (!HOST_PORT.matcher(server).matches()) {
                throw new IllegalArgumentException("'" + server + "' in '" + connect + "' is not host or host:port");
            }
        }
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        for (String segment : path.substring(1).split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("job path '" + path + "' has the part '" + segment + "': use "
                        + "letters, digits, '.', '_' and '-' between the slashes");
            }
        }
        return new JobAddress(connect, path);
    }

    @Override
    public String toString() {
        return connect + path;
    }
}
