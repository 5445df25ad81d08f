/*
 * System Resource Affinity Table (SRAT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0004]                          Signature : "SRAT"    [System Resource Affinity Table]
[0004]                       Table Length : 0000013E
[0001]                           Revision : 03
[0001]                           Checksum : F2
[0006]                             Oem ID : "FWCOEM"
[0008]                       Oem Table ID : "FWCTABLE"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "FWC "
[0004]              Asl Compiler Revision : 00010000

[0004]                     Table Revision : 00000001
[0008]                           Reserved : 0000000000000000

[0001]                      Subtable Type : 00 [Processor Local APIC/SAPIC Affinity]
[0001]                             Length : 10

[0001]            Proximity Domain Low(8) : 00
[0001]                            Apic ID : 00
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0001]                    Local Sapic EID : 00
[0003]          Proximity Domain High(24) : 000000
[0004]                       Clock Domain : 00000000

[0001]                      Subtable Type : 00 [Processor Local APIC/SAPIC Affinity]
[0001]                             Length : 10

[0001]            Proximity Domain Low(8) : 01
[0001]                            Apic ID : 01
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0001]                    Local Sapic EID : 00
[0003]          Proximity Domain High(24) : 000001
[0004]                       Clock Domain : 00000000

[0001]                      Subtable Type : 02 [Processor Local x2APIC Affinity]
[0001]                             Length : 18

[0002]                          Reserved1 : 0000
[0004]                   Proximity Domain : 00000002
[0004]                            Apic ID : 00000100
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0004]                       Clock Domain : 00000000
[0004]                          Reserved2 : 00000000

[0001]                      Subtable Type : 03 [GICC Affinity]
[0001]                             Length : 12

[0004]                   Proximity Domain : 00000001
[0004]                 Acpi Processor UID : 00000007
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0004]                       Clock Domain : 00000003

[0001]                      Subtable Type : 04 [GIC ITS Affinity]
[0001]                             Length : 0C

[0004]                   Proximity Domain : 00000001
[0002]                           Reserved : 0000
[0004]                             ITS ID : 00000002

[0001]                      Subtable Type : 01 [Memory Affinity]
[0001]                             Length : 28

[0004]                   Proximity Domain : 00000000
[0002]                          Reserved1 : 0000
[0008]                       Base Address : 0000000000000000
[0008]                     Address Length : 00000000000A0000
[0004]                          Reserved2 : 00000000
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
                            Hot Pluggable : 0
                             Non-Volatile : 0
[0008]                          Reserved3 : 0000000000000000

[0001]                      Subtable Type : 01 [Memory Affinity]
[0001]                             Length : 28

[0004]                   Proximity Domain : 00000000
[0002]                          Reserved1 : 0000
[0008]                       Base Address : 0000000000100000
[0008]                     Address Length : 000000007FF00000
[0004]                          Reserved2 : 00000000
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
                            Hot Pluggable : 0
                             Non-Volatile : 0
[0008]                          Reserved3 : 0000000000000000

[0001]                      Subtable Type : 01 [Memory Affinity]
[0001]                             Length : 28

[0004]                   Proximity Domain : 00000101
[0002]                          Reserved1 : 0000
[0008]                       Base Address : 0000000100000000
[0008]                     Address Length : 0000000080000000
[0004]                          Reserved2 : 00000000
[0004]              Flags (decoded below) : 00000007
                                  Enabled : 1
                            Hot Pluggable : 1
                             Non-Volatile : 1
[0008]                          Reserved3 : 0000000000000000

[0001]                      Subtable Type : 05 [Generic Initiator Affinity]
[0001]                             Length : 20

[0001]                          Reserved1 : 00
[0001]                 Device Handle Type : 00
[0004]                   Proximity Domain : 00000003
[0016]                      Device Handle : 41 43 50 49 30 30 31 36 05 00 00 00 00 00 00 00
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0004]                          Reserved2 : 00000000

[0001]                      Subtable Type : 05 [Generic Initiator Affinity]
[0001]                             Length : 20

[0001]                          Reserved1 : 00
[0001]                 Device Handle Type : 01
[0004]                   Proximity Domain : 00000003
[0016]                      Device Handle : 01 00 3A 08 00 00 00 00 00 00 00 00 00 00 00 00
[0004]              Flags (decoded below) : 00000001
                                  Enabled : 1
[0004]                          Reserved2 : 00000000
