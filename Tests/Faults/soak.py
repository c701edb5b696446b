def scenarios(minutes): return []
