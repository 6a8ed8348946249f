package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TrainerIdTest {
    @Test
    void idsMapFieldKeysToEntryNamesAndBack() {
        TrainerId first = new TrainerId("p.C", 0);
        TrainerId third = new TrainerId("p.C", 2);
        assertEquals("trainer:p.C", first.infoKey());
        assertEquals("trainer:p.C#2", third.infoKey());
        assertEquals("w", first.entryName("w"));
        assertEquals("w#2", third.entryName("w"));
        assertEquals("a#b", third.fieldKey(third.entryName("a#b")));
        assertEquals("w#1", first.fieldKey("w#1"));
    }
}
