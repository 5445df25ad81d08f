/*
 * System Resource Affinity Table (SRAT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   4]                    Signature : "SRAT"    [System Resource Affinity Table]
[004h 0004   4]                 Table Length : 0000013E
[008h 0008   1]                     Revision : 03
[009h 0009   1]                     Checksum : F2
[00Ah 0010   6]                       Oem ID : "FWCOEM"
[010h 0016   8]                 Oem Table ID : "FWCTABLE"
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "FWC "
[020h 0032   4]        Asl Compiler Revision : 00010000

[024h 0036   4]               Table Revision : 00000001
[028h 0040   8]                     Reserved : 0000000000000000

[030h 0048   1]                Subtable Type : 00 [Processor Local APIC/SAPIC Affinity]
[031h 0049   1]                       Length : 10

[032h 0050   1]      Proximity Domain Low(8) : 00
[033h 0051   1]                      Apic ID : 00
[034h 0052   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[038h 0056   1]              Local Sapic EID : 00
[039h 0057   3]    Proximity Domain High(24) : 000000
[03Ch 0060   4]                 Clock Domain : 00000000

[040h 0064   1]                Subtable Type : 00 [Processor Local APIC/SAPIC Affinity]
[041h 0065   1]                       Length : 10

[042h 0066   1]      Proximity Domain Low(8) : 01
[043h 0067   1]                      Apic ID : 01
[044h 0068   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[048h 0072   1]              Local Sapic EID : 00
[049h 0073   3]    Proximity Domain High(24) : 000001
[04Ch 0076   4]                 Clock Domain : 00000000

[050h 0080   1]                Subtable Type : 02 [Processor Local x2APIC Affinity]
[051h 0081   1]                       Length : 18

[052h 0082   2]                    Reserved1 : 0000
[054h 0084   4]             Proximity Domain : 00000002
[058h 0088   4]                      Apic ID : 00000100
[05Ch 0092   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[060h 0096   4]                 Clock Domain : 00000000
[064h 0100   4]                    Reserved2 : 00000000

[068h 0104   1]                Subtable Type : 03 [GICC Affinity]
[069h 0105   1]                       Length : 12

[06Ah 0106   4]             Proximity Domain : 00000001
[06Eh 0110   4]           Acpi Processor UID : 00000007
[072h 0114   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[076h 0118   4]                 Clock Domain : 00000003

[07Ah 0122   1]                Subtable Type : 04 [GIC ITS Affinity]
[07Bh 0123   1]                       Length : 0C

[07Ch 0124   4]             Proximity Domain : 00000001
[080h 0128   2]                     Reserved : 0000
[082h 0130   4]                       ITS ID : 00000002

[086h 0134   1]                Subtable Type : 01 [Memory Affinity]
[087h 0135   1]                       Length : 28

[088h 0136   4]             Proximity Domain : 00000000
[08Ch 0140   2]                    Reserved1 : 0000
[08Eh 0142   8]                 Base Address : 0000000000000000
[096h 0150   8]               Address Length : 00000000000A0000
[09Eh 0158   4]                    Reserved2 : 00000000
[0A2h 0162   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
                               Hot Pluggable : 0
                                Non-Volatile : 0
[0A6h 0166   8]                    Reserved3 : 0000000000000000

[0AEh 0174   1]                Subtable Type : 01 [Memory Affinity]
[0AFh 0175   1]                       Length : 28

[0B0h 0176   4]             Proximity Domain : 00000000
[0B4h 0180   2]                    Reserved1 : 0000
[0B6h 0182   8]                 Base Address : 0000000000100000
[0BEh 0190   8]               Address Length : 000000007FF00000
[0C6h 0198   4]                    Reserved2 : 00000000
[0CAh 0202   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
                               Hot Pluggable : 0
                                Non-Volatile : 0
[0CEh 0206   8]                    Reserved3 : 0000000000000000

[0D6h 0214   1]                Subtable Type : 01 [Memory Affinity]
[0D7h 0215   1]                       Length : 28

[0D8h 0216   4]             Proximity Domain : 00000101
[0DCh 0220   2]                    Reserved1 : 0000
[0DEh 0222   8]                 Base Address : 0000000100000000
[0E6h 0230   8]               Address Length : 0000000080000000
[0EEh 0238   4]                    Reserved2 : 00000000
[0F2h 0242   4]        Flags (decoded below) : 00000007
                                     Enabled : 1
                               Hot Pluggable : 1
                                Non-Volatile : 1
[0F6h 0246   8]                    Reserved3 : 0000000000000000

[0FEh 0254   1]                Subtable Type : 05 [Generic Initiator Affinity]
[0FFh 0255   1]                       Length : 20

[100h 0256   1]                    Reserved1 : 00
[101h 0257   1]           Device Handle Type : 00
[102h 0258   4]             Proximity Domain : 00000003
[106h 0262  16]                Device Handle : 41 43 50 49 30 30 31 36 05 00 00 00 00 00 00 00
[116h 0278   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[11Ah 0282   4]                    Reserved2 : 00000000

[11Eh 0286   1]                Subtable Type : 05 [Generic Initiator Affinity]
[11Fh 0287   1]                       Length : 20

[120h 0288   1]                    Reserved1 : 00
[121h 0289   1]           Device Handle Type : 01
[122h 0290   4]             Proximity Domain : 00000003
[126h 0294  16]                Device Handle : 01 00 3A 08 00 00 00 00 00 00 00 00 00 00 00 00
[136h 0310   4]        Flags (decoded below) : 00000001
                                     Enabled : 1
[13Ah 0314   4]                    Reserved2 : 00000000
