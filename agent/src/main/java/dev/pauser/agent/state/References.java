package dev.pauser.agent.state;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Finds where an object is still referenced from a field's value: breadth first through the fields of the app's and
 * libraries' objects, arrays, and {@code java.util} collections and maps (never into other JDK internals), at most
 * {@link #MAX_OBJECTS} objects. Used after a restore to tell a user that an app codec replaced an object that other
 * state still points to. Runs on the thread of the restore.
 */
final class References {
    static final int MAX_OBJECTS = 1_000_000;

    private References() {
    }

    /** The path from {@code root} (named {@code rootName}) to {@code target}, or null when it isn't reached. */
    static String pathTo(Object root, String rootName, Object target) {
        if (root == null) {
            return null;
        }
        IdentityHashMap<Object, GraphPath> seen = new IdentityHashMap<>();
        Deque<Object> queue = new ArrayDeque<>();
        seen.put(root, GraphPath.ROOT);
        queue.add(root);
        while (!queue.isEmpty() && seen.size() < MAX_OBJECTS) {
            Object o = queue.poll();
            GraphPath path = seen.get(o);
            if (o == target) {
                String p = path.toString();
                return p.isEmpty() ? rootName : rootName + "." + p;
            }
            Class<?> c = o.getClass();
            if (c.isArray()) {
                if (!c.getComponentType().isPrimitive()) {
                    for (int i = 0; i < Array.getLength(o); i++) {
                        visit(Array.get(o, i), path.index(i), seen, queue);
                    }
                }
            } else if (o instanceof Map<?, ?> m && c.getName().startsWith("java.util.")) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    visit(e.getValue(), path.index(e.getKey()), seen, queue);
                }
            } else if (o instanceof Collection<?> col && c.getName().startsWith("java.util.")) {
                int i = 0;
                for (Object e : col) {
                    visit(e, path.index(i++), seen, queue);
                }
            } else if (GraphRules.kind(c) == GraphRules.Kind.OBJECT) {
                Map<String, Field> fields;
                try {
                    fields = GraphRules.fields(c);
                } catch (RuntimeException notOpen) {
                    continue; // a class of a module that isn't open to the agent: not followed
                }
                for (Map.Entry<String, Field> f : fields.entrySet()) {
                    if (f.getValue().getType().isPrimitive()) {
                        continue;
                    }
                    try {
                        visit(f.getValue().get(o), path.field(f.getKey()), seen, queue);
                    } catch (IllegalAccessException | RuntimeException e) {
                        // unreadable: not followed
                    }
                }
            }
        }
        return null;
    }

    private static void visit(Object o, GraphPath path, IdentityHashMap<Object, GraphPath> seen, Deque<Object> queue) {
        if (o != null && !GraphRules.isLeaf(o.getClass()) && !seen.containsKey(o)) {
            seen.put(o, path);
            queue.add(o);
        }
    }
}
