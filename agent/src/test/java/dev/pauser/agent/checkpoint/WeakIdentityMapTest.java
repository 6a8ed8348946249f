package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WeakIdentityMapTest {
    @Test
    void theWeakIdentityMapTellsEqualObjectsApartAndLetsDroppedOnesGo() throws Exception {
        WeakIdentityMap<Integer> map = new WeakIdentityMap<>();
        String one = new String("same");
        String two = new String("same");
        map.put(one, 1);
        map.put(two, 2);
        assertEquals(1, map.get(one));
        assertEquals(2, map.get(two));
        assertEquals(2, map.size());
        two = null;
        long deadline = System.currentTimeMillis() + 20_000;
        while (map.size() > 1 && System.currentTimeMillis() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(1, map.size(), "the dropped key is purged");
        assertEquals(1, map.get(one));
    }
}
