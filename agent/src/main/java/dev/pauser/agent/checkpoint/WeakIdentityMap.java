package dev.pauser.agent.checkpoint;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

/**
 * A map keyed by object identity that does not keep its keys alive: trainer objects a program makes and drops must not
 * pile up in the agent. Identity, not {@code equals}: two trainers that compare equal are still two trainers. Not
 * thread-safe; {@link TrainerSightings} is used under the trainer registry's lock.
 */
final class WeakIdentityMap<V> {
    private final ReferenceQueue<Object> cleared = new ReferenceQueue<>();
    private final Map<Key, V> map = new HashMap<>();

    V get(Object key) {
        purge();
        return map.get(new Key(key, null));
    }

    boolean containsKey(Object key) {
        return get(key) != null;
    }

    /** Returns the previous value, or null. Values must not be null. */
    V put(Object key, V value) {
        purge();
        return map.put(new Key(key, cleared), value);
    }

    V remove(Object key) {
        purge();
        return map.remove(new Key(key, null));
    }

    int size() {
        purge();
        return map.size();
    }

    private void purge() {
        for (Reference<?> r; (r = cleared.poll()) != null; ) {
            map.remove(r);
        }
    }

    /** Equal to another key holding the same object, or to itself once cleared (so {@link #purge} finds it). */
    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object referent, ReferenceQueue<Object> queue) {
            super(referent, queue);
            hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key)) {
                return false;
            }
            Object mine = get();
            return mine != null && mine == ((Key) o).get();
        }
    }
}
