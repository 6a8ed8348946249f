package dev.pauser.agent.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.utils.ZKPaths;

/**
 * The job's nodes as the cache holds them at one moment, grouped by parent: one pass over the cache per look, however
 * many steps and requests it holds. Immutable; built and read on one thread.
 */
final class JobTree {
    private final Map<String, Map<String, byte[]>> byParent = new HashMap<>();

    private JobTree() {
    }

    static JobTree of(CuratorCache cache) {
        JobTree t = new JobTree();
        cache.stream().forEach(c -> {
            ZKPaths.PathAndNode pn = ZKPaths.getPathAndNode(c.getPath());
            t.byParent.computeIfAbsent(pn.getPath(), p -> new TreeMap<>()).put(pn.getNode(), dataOf(c));
        });
        return t;
    }

    /** The children of {@code parent} by name, with their data (empty arrays for none). */
    Map<String, byte[]> children(String parent) {
        return byParent.getOrDefault(parent, Map.of());
    }

    /** The data of the node at {@code path}; null when there is no such node. */
    byte[] data(String path) {
        ZKPaths.PathAndNode pn = ZKPaths.getPathAndNode(path);
        return children(pn.getPath()).get(pn.getNode());
    }

    private static byte[] dataOf(ChildData c) {
        return c.getData() == null ? new byte[0] : c.getData();
    }
}
