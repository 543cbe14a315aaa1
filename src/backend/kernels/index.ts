// Kernel workarounds, one file per replaced kernel; each file calls addWorkaround(...).
export {};
