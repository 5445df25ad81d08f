/*
 * Multiple APIC Description Table (MADT) (APIC): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   4]                    Signature : "APIC"    [Multiple APIC Description Table (MADT)]
[004h 0004   4]                 Table Length : 00000092
[008h 0008   1]                     Revision : 05
[009h 0009   1]                     Checksum : EF
[00Ah 0010   6]                       Oem ID : "FWCOEM"
[010h 0016   8]                 Oem Table ID : "FWCTABLE"
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "FWC "
[020h 0032   4]        Asl Compiler Revision : 00010000

[024h 0036   4]           Local Apic Address : FEE00000
[028h 0040   4]        Flags (decoded below) : 00000001
                         PC-AT Compatibility : 1

[02Ch 0044   1]                Subtable Type : 00 [Processor Local APIC]
[02Dh 0045   1]                       Length : 08

[02Eh 0046   1]                 Processor ID : 00
[02Fh 0047   1]                Local Apic ID : 00
[030h 0048   4]        Flags (decoded below) : 00000001
                           Processor Enabled : 1
                      Runtime Online Capable : 0

[034h 0052   1]                Subtable Type : 00 [Processor Local APIC]
[035h 0053   1]                       Length : 08

[036h 0054   1]                 Processor ID : 01
[037h 0055   1]                Local Apic ID : 01
[038h 0056   4]        Flags (decoded below) : 00000002
                           Processor Enabled : 0
                      Runtime Online Capable : 1

[03Ch 0060   1]                Subtable Type : 09 [Processor Local x2APIC]
[03Dh 0061   1]                       Length : 10

[03Eh 0062   2]                     Reserved : 0000
[040h 0064   4]          Processor x2Apic ID : 00000100
[044h 0068   4]        Flags (decoded below) : 00000001
                           Processor Enabled : 1
[048h 0072   4]                Processor UID : 00000002

[04Ch 0076   1]                Subtable Type : 01 [I/O APIC]
[04Dh 0077   1]                       Length : 0C

[04Eh 0078   1]                  I/O Apic ID : 00
[04Fh 0079   1]                     Reserved : 00
[050h 0080   4]                      Address : FEC00000
[054h 0084   4]                    Interrupt : 00000000

[058h 0088   1]                Subtable Type : 02 [Interrupt Source Override]
[059h 0089   1]                       Length : 0A

[05Ah 0090   1]                          Bus : 00
[05Bh 0091   1]                       Source : 00
[05Ch 0092   4]                    Interrupt : 00000002
[060h 0096   2]        Flags (decoded below) : 0000
                                    Polarity : 0
                                Trigger Mode : 0

[062h 0098   1]                Subtable Type : 02 [Interrupt Source Override]
[063h 0099   1]                       Length : 0A

[064h 0100   1]                          Bus : 00
[065h 0101   1]                       Source : 09
[066h 0102   4]                    Interrupt : 00000009
[06Ah 0106   2]        Flags (decoded below) : 000D
                                    Polarity : 1
                                Trigger Mode : 3

[06Ch 0108   1]                Subtable Type : 03 [NMI Source]
[06Dh 0109   1]                       Length : 08

[06Eh 0110   2]        Flags (decoded below) : 000F
                                    Polarity : 3
                                Trigger Mode : 3
[070h 0112   4]                    Interrupt : 00000017

[074h 0116   1]                Subtable Type : 04 [Local APIC NMI]
[075h 0117   1]                       Length : 06

[076h 0118   1]                 Processor ID : FF
[077h 0119   2]        Flags (decoded below) : 0000
                                    Polarity : 0
                                Trigger Mode : 0
[079h 0121   1]         Interrupt Input LINT : 01

[07Ah 0122   1]                Subtable Type : 05 [Local APIC Address Override]
[07Bh 0123   1]                       Length : 0C

[07Ch 0124   2]                     Reserved : 0000
[07Eh 0126   8]                 APIC Address : 00000000FEE00000

[086h 0134   1]                Subtable Type : 0A [Local x2APIC NMI]
[087h 0135   1]                       Length : 0C

[088h 0136   2]        Flags (decoded below) : 0000
                                    Polarity : 0
                                Trigger Mode : 0
[08Ah 0138   4]                Processor UID : FFFFFFFF
[08Eh 0142   1]         Interrupt Input LINT : 01
[08Fh 0143   3]                     Reserved : 000000
